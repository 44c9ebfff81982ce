import numpy as np
import pandas as pd
import pytest
import torch

from micro_expression.evaluation.predictions import clip_scores, prediction_classes
from micro_expression.io.clip_cache import ClipCache
from micro_expression.model import build_mol
from micro_expression.training.data import ClipSamples
from micro_expression.training.predict import aggregate_clips, predict_samples
from tests.training.corpus import write_corpus

CLASSES = ["negative", "positive"]


def clips(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "clip_id": [f"c{i}" for i in range(n)], "subject": "s", "dataset": "d",
        "label": ["negative"] * n,
    })


def test_a_clip_is_scored_once_by_its_mean_probability_not_by_sample_votes():
    # Clip 0: two of three samples lean positive, but the mean favours negative.
    samples = {
        "clip": np.array([0, 0, 0, 1]),
        "probabilities": np.array([[0.9, 0.1], [0.45, 0.55], [0.45, 0.55], [0.2, 0.8]]),
        "flow_epe": np.array([1.0, 2.0, 3.0, 4.0]),
        "landmark_nme": np.full(4, np.nan),
    }
    table = aggregate_clips(clips(2), samples, CLASSES)
    assert table["predicted_label"].tolist() == ["negative", "positive"]
    assert table["n_samples"].tolist() == [3, 1]
    assert table["prob_negative"].tolist() == pytest.approx([0.6, 0.2])
    assert table["flow_epe"].tolist() == [2.0, 4.0]
    assert prediction_classes(table) == CLASSES
    scores = clip_scores(table)
    assert scores["n_clips"] == 2 and scores["accuracy"] == 0.5
    assert np.isnan(scores["landmark_nme"])


def test_a_subject_without_clips_gives_an_empty_table():
    empty = {k: np.empty(0) for k in ("clip", "probabilities", "flow_epe", "landmark_nme")}
    table = aggregate_clips(clips(0), empty, CLASSES)
    assert table.empty and prediction_classes(table) == CLASSES


@pytest.mark.parametrize("heads", [True, False])
def test_predict_samples_gives_probabilities_and_errors_per_sample(tmp_path, heads):
    index = write_corpus(tmp_path, subjects=1, samples=2)
    index = index.assign(target=index["label_id"])
    samples = ClipSamples(index, ClipCache(tmp_path), augment=False)
    torch.manual_seed(0)
    model = build_mol("small", n_classes=3, with_flow=heads, with_landmarks=heads)
    result = predict_samples(model, samples, torch.device("cpu"), batch_size=4)
    assert result["clip"].tolist() == [0, 0, 1, 1, 2, 2]
    np.testing.assert_allclose(result["probabilities"].sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(result["flow_epe"]).all() == heads
    assert np.isfinite(result["landmark_nme"]).all() == heads
