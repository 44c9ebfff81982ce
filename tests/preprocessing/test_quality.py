import cv2
import numpy as np
import pytest

from micro_expression.face.alignment import transform_vectors
from micro_expression.preprocessing.clip import preprocess_clip
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.qa import qa_figure
from micro_expression.preprocessing.quality import (
    clip_quality,
    load_clip_truth,
    true_crop_flow,
    true_sample_flows,
)
from tests.preprocessing.clips import generated_corpus_clips, write_moving_face_clip

CONFIG = {"crop_size": 96, "workers": 1}


@pytest.fixture(scope="module")
def corpus_clip(tmp_path_factory):
    clips = generated_corpus_clips(tmp_path_factory.mktemp("corpus"))
    return next(iter(clips.values()))


@pytest.fixture(scope="module")
def arrays(corpus_clip):
    return {
        mode: preprocess_clip(corpus_clip, PreprocessingConfig(alignment=mode, **CONFIG))
        for mode in ("per_clip", "per_frame")
    }


def test_true_crop_flow_matches_the_documented_dense_flow(corpus_clip):
    truth = load_clip_truth(corpus_clip)
    transform = np.array([[0.45, 0.05, -60.0], [-0.05, 0.45, -20.0]])
    dense = truth.flow_between(1, 6)
    expected = transform_vectors(
        cv2.warpAffine(dense, transform, (96, 96), flags=cv2.INTER_LINEAR), transform
    )
    assert np.abs(true_crop_flow(truth, 1, 6, transform, 96) - expected).max() < 0.01
    assert np.abs(expected).max() > 0.05  # there is motion to compare


def test_per_clip_alignment_gives_a_better_flow_than_per_frame(corpus_clip, arrays):
    per_clip = clip_quality(corpus_clip, arrays["per_clip"])
    per_frame = clip_quality(corpus_clip, arrays["per_frame"])
    assert set(per_clip) == {"flow_epe", "flow_epe_worst_pair", "flow_epe_zero", "landmark_nme"}
    assert 0 < per_clip["flow_epe"] < per_frame["flow_epe"]
    assert per_clip["flow_epe"] <= per_clip["flow_epe_worst_pair"]
    assert per_clip["landmark_nme"] < 0.1 and per_frame["landmark_nme"] < 0.1


def test_brightness_matched_flow_targets_track_the_true_motion(corpus_clip, arrays):
    """The generated corpus flickers each frame's brightness: matched, TV-L1 sees the motion."""
    raw = clip_quality(corpus_clip, arrays["per_clip"])
    config = PreprocessingConfig(alignment="per_clip", flow_brightness="gain", **CONFIG)
    matched = clip_quality(corpus_clip, preprocess_clip(corpus_clip, config))
    assert matched["flow_epe"] < 0.6 * matched["flow_epe_zero"]
    assert matched["flow_epe"] < 0.7 * raw["flow_epe"]
    assert matched["landmark_nme"] == pytest.approx(raw["landmark_nme"])


def test_wrong_flow_scores_worse(corpus_clip, arrays):
    stored = arrays["per_clip"]
    flipped = type(stored)(**{**stored.as_dict(), "flows": -stored.flows})
    worse, good = clip_quality(corpus_clip, flipped), clip_quality(corpus_clip, stored)
    assert worse["flow_epe"] > good["flow_epe"]


def test_clips_without_ground_truth_are_skipped(tmp_path):
    assert load_clip_truth(write_moving_face_clip(tmp_path / "EP01", 8)) is None
    casme_layout = tmp_path / "CASME2_RAW_selected" / "sub01" / "EP01"
    assert load_clip_truth(write_moving_face_clip(casme_layout, 8)) is None


def test_qa_figure_shows_the_true_flow(corpus_clip, arrays):
    true_flows = true_sample_flows(corpus_clip, arrays["per_clip"])
    assert true_flows.shape == (7, 96, 96, 2)
    figure = qa_figure("casme2/sub01/EP01", arrays["per_clip"], true_flows)
    titles = [axis.get_title() for axis in figure.axes]
    assert any(t.startswith("true flow") for t in titles) and "end-point error (px)" in titles


def test_subsampled_error_estimates_the_full_resolution_error(corpus_clip, arrays):
    full = clip_quality(corpus_clip, arrays["per_frame"], step=1)
    sampled = clip_quality(corpus_clip, arrays["per_frame"], step=2)
    assert sampled["flow_epe"] == pytest.approx(full["flow_epe"], rel=0.05)
    assert sampled["landmark_nme"] == full["landmark_nme"]
