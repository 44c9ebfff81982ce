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
from tests.preprocessing.clips import generated_corpus_clips

CONFIG = {"crop_size": 96, "workers": 1}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(frame paths, ground-truth file) of one generated clip."""
    clips, ground_truth = generated_corpus_clips(tmp_path_factory.mktemp("corpus"))
    clip_id = next(iter(clips))
    return clips[clip_id], ground_truth[clip_id]


@pytest.fixture(scope="module")
def corpus_clip(corpus):
    return corpus[0]


@pytest.fixture(scope="module")
def truth_path(corpus):
    return corpus[1]


@pytest.fixture(scope="module")
def arrays(corpus_clip):
    return {
        mode: preprocess_clip(corpus_clip, PreprocessingConfig(alignment=mode, **CONFIG))
        for mode in ("per_clip", "per_frame")
    }


def test_true_crop_flow_matches_the_documented_dense_flow(truth_path):
    truth = load_clip_truth(truth_path)
    transform = np.array([[0.45, 0.05, -60.0], [-0.05, 0.45, -20.0]])
    dense = truth.flow_between(1, 6)
    expected = transform_vectors(
        cv2.warpAffine(dense, transform, (96, 96), flags=cv2.INTER_LINEAR), transform
    )
    assert np.abs(true_crop_flow(truth, 1, 6, transform, 96) - expected).max() < 0.01
    assert np.abs(expected).max() > 0.05  # there is motion to compare


def test_per_clip_alignment_gives_a_better_flow_target_than_per_frame(truth_path, arrays):
    """Re-aligning every frame moves the crop by the detector's jitter: TV-L1 measures that
    motion (flow_epe), but the target no longer shows the expression (expression_epe)."""
    per_clip = clip_quality(truth_path, arrays["per_clip"])
    per_frame = clip_quality(truth_path, arrays["per_frame"])
    assert set(per_clip) == {
        "flow_epe", "flow_epe_worst_pair", "flow_epe_zero", "expression_epe",
        "expression_epe_zero", "rigid_residual_px", "rigid_residual_px_worst_frame",
        "landmark_nme",
    }
    assert 0 < per_clip["expression_epe"] < per_frame["expression_epe"]
    assert per_clip["rigid_residual_px"] < per_frame["rigid_residual_px"]
    assert per_clip["flow_epe"] <= per_clip["flow_epe_worst_pair"]
    assert per_clip["landmark_nme"] < 0.1 and per_frame["landmark_nme"] < 0.1


def test_stabilisation_removes_the_head_motion_from_crops_and_targets(tmp_path_factory):
    """At 3.6 px of head motion, ECC leaves under 0.1 px of it in the crops, and the flow
    targets then show the expression instead of the head."""
    clips, truths = generated_corpus_clips(
        tmp_path_factory.mktemp("moving"), nuisance={"head_jitter_px": 3.6}
    )
    clip_id = next(iter(clips))
    scores = {
        method: clip_quality(truths[clip_id], preprocess_clip(clips[clip_id], PreprocessingConfig(
            stabilisation=method, flow_brightness="gain", **CONFIG
        )))
        for method in ("none", "ecc")
    }
    assert scores["none"]["rigid_residual_px"] > 0.4
    assert scores["ecc"]["rigid_residual_px"] < 0.1
    assert scores["ecc"]["rigid_residual_px_worst_frame"] < 0.2
    assert scores["ecc"]["expression_epe"] < 0.3 * scores["none"]["expression_epe"]
    # Both measure what they were shown about as well; the truth differs, not TV-L1.
    assert scores["ecc"]["flow_epe"] < 2 * scores["none"]["flow_epe"]


def test_brightness_matched_flow_targets_track_the_true_motion(corpus_clip, truth_path, arrays):
    """The generated corpus flickers each frame's brightness: matched, TV-L1 sees the motion."""
    raw = clip_quality(truth_path, arrays["per_clip"])
    config = PreprocessingConfig(alignment="per_clip", flow_brightness="gain", **CONFIG)
    matched = clip_quality(truth_path, preprocess_clip(corpus_clip, config))
    assert matched["flow_epe"] < 0.6 * matched["flow_epe_zero"]
    assert matched["expression_epe"] < raw["expression_epe"]
    assert matched["flow_epe"] < 0.7 * raw["flow_epe"]
    assert matched["landmark_nme"] == pytest.approx(raw["landmark_nme"])


def test_wrong_flow_scores_worse(truth_path, arrays):
    stored = arrays["per_clip"]
    flipped = type(stored)(**{**stored.as_dict(), "flows": -stored.flows})
    worse, good = clip_quality(truth_path, flipped), clip_quality(truth_path, stored)
    assert worse["flow_epe"] > good["flow_epe"]


def test_clips_without_ground_truth_are_skipped(arrays):
    assert load_clip_truth(None) is None
    assert clip_quality(None, arrays["per_clip"]) is None
    assert true_sample_flows(None, arrays["per_clip"]) is None


def test_qa_figure_shows_the_true_flow(truth_path, arrays):
    true_flows = true_sample_flows(truth_path, arrays["per_clip"])
    assert true_flows.shape == (7, 96, 96, 2)
    figure = qa_figure("casme2/sub01/EP01", arrays["per_clip"], true_flows)
    titles = [axis.get_title() for axis in figure.axes]
    assert any(t.startswith("true flow") for t in titles) and "end-point error (px)" in titles


def test_subsampled_error_estimates_the_full_resolution_error(truth_path, arrays):
    full = clip_quality(truth_path, arrays["per_frame"], step=1)
    sampled = clip_quality(truth_path, arrays["per_frame"], step=2)
    assert sampled["flow_epe"] == pytest.approx(full["flow_epe"], rel=0.05)
    assert sampled["landmark_nme"] == full["landmark_nme"]
