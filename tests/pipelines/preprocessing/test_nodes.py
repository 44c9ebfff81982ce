import cv2
import numpy as np
import pandas as pd
import pytest

from micro_expression.io.clip_cache import ClipCache
from micro_expression.pipelines.preprocessing.nodes import (
    describe_preprocessing,
    preprocess_clips,
    render_qa_figures,
    summarise_quality,
)
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.keys import index_digest
from micro_expression.preprocessing.tables import clip_tasks
from tests.preprocessing.clips import (
    CANVAS,
    FAST_PARAMS,
    GREY,
    astronaut_canvas,
    clip_index,
    write_frames,
    write_moving_face_clip,
)

CHECKED = {"ingestion_id": None}  # the summary of a hand-made clip index (no ingestion id)


@pytest.fixture
def clips(tmp_path):
    return {
        f"casme2/sub0{n}/EP0{n}": write_moving_face_clip(
            tmp_path / "raw" / f"EP0{n}", 9, step=(0.1 * n, 0.05)
        )
        for n in (1, 2, 3)
    }


def run(clips, cache, **changes):
    return preprocess_clips(clip_index(clips), CHECKED, cache, {**FAST_PARAMS, **changes})


def mtimes(cache):
    return {p.name: p.stat().st_mtime_ns for p in cache.folder.glob("*.npz")}


def test_index_lists_each_stored_clip(clips, tmp_path):
    cache = ClipCache(tmp_path / "cache")
    index, rejections, quality = run(clips, cache)
    assert list(index.columns) == [
        "clip_id", "subject", "dataset", "label", "label_id", "file", "content_key",
        "n_samples", "status",
    ]
    assert index["clip_id"].tolist() == list(clips)
    assert set(index["status"]) == {"computed"} and set(index["n_samples"]) == {1}
    assert index["subject"].tolist() == ["casme2/sub01", "casme2/sub02", "casme2/sub03"]
    for row in index.itertuples():
        stored = np.load(row.file)
        assert stored["frames"].shape == (1, 8, 64, 64)
        assert '"sampling": "even"' in str(stored["meta"])
    assert rejections.empty and list(rejections.columns) == ["clip_id", "stage", "reason"]
    assert quality.empty  # no ground truth for these clips


def test_nothing_changed_recomputes_nothing(clips, tmp_path):
    cache = ClipCache(tmp_path / "cache")
    first, _, _ = run(clips, cache)
    before = mtimes(cache)
    second, _, _ = run(clips, cache, workers=2, qa_clips=1)  # execution settings only
    assert set(second["status"]) == {"cached"}
    assert second["content_key"].tolist() == first["content_key"].tolist()
    assert mtimes(cache) == before


def test_touching_one_frame_recomputes_only_that_clip(clips, tmp_path):
    cache = ClipCache(tmp_path / "cache")
    first, _, _ = run(clips, cache)
    touched = clips["casme2/sub02/EP02"][4]
    image = cv2.imread(touched)
    image[0, 0] = 255 - image[0, 0]
    cv2.imwrite(touched, image)
    second, _, _ = run(clips, cache)
    assert second["status"].tolist() == ["cached", "computed", "cached"]
    assert (second["content_key"] != first["content_key"]).tolist() == [False, True, False]
    assert len(mtimes(cache)) == 4  # the old file of the touched clip stays


def test_changing_a_flow_parameter_recomputes_every_clip(clips, tmp_path):
    cache = ClipCache(tmp_path / "cache")
    first, _, _ = run(clips, cache)
    tvl1 = {**FAST_PARAMS["tvl1"], "lambda": 0.3}
    second, _, _ = run(clips, cache, tvl1=tvl1)
    assert set(second["status"]) == {"computed"}
    assert not set(second["content_key"]) & set(first["content_key"])


def test_every_kind_of_bad_clip_is_rejected_and_the_run_goes_on(clips, tmp_path):
    raw = tmp_path / "raw"
    blank = np.full((*CANVAS, 3), GREY, np.uint8)
    corrupt = write_moving_face_clip(raw / "corrupt", 8)
    with open(corrupt[0], "r+b") as file:
        file.truncate(500)
    bad = {
        "casme2/sub09/blank": write_frames(raw / "blank", [blank] * 8),
        "casme2/sub09/cut": write_frames(raw / "cut", [astronaut_canvas(-260)] * 8),
        "casme2/sub09/corrupt": corrupt,
        "casme2/sub09/short": write_moving_face_clip(raw / "short", 5),
    }
    cache = ClipCache(tmp_path / "cache")
    index, rejections, _ = run({**clips, **bad}, cache)
    assert index["clip_id"].tolist() == list(clips)
    stages = dict(zip(rejections["clip_id"], rejections["stage"], strict=True))
    assert stages == {
        "casme2/sub09/blank": "detect",
        "casme2/sub09/cut": "landmarks",
        "casme2/sub09/corrupt": "decode",
        "casme2/sub09/short": "sampling",
    }
    reasons = dict(zip(rejections["clip_id"], rejections["reason"], strict=True))
    assert "img46.jpg" in reasons["casme2/sub09/corrupt"]
    assert "5 frames, need at least 8" in reasons["casme2/sub09/short"]
    again, rejections_again, _ = run({**clips, **bad}, cache)
    assert set(again["status"]) == {"cached"}
    assert rejections_again.equals(rejections)


def test_nothing_left_is_a_clear_error(tmp_path):
    blank = np.full((*CANVAS, 3), GREY, np.uint8)
    clips = {"casme2/sub01/blank": write_frames(tmp_path / "blank", [blank] * 8)}
    with pytest.raises(ValueError, match="no clip survived preprocessing .*no face found"):
        run(clips, ClipCache(tmp_path / "cache"))


def test_clip_index_without_needed_columns_is_refused(clips, tmp_path):
    index = clip_index(clips).drop(columns=["content_hash"])
    with pytest.raises(ValueError, match="content_hash"):
        preprocess_clips(index, CHECKED, ClipCache(tmp_path), FAST_PARAMS)


def test_a_clip_index_without_ground_truth_locations_asks_for_a_new_ingestion(clips, tmp_path):
    # As written by ingestion before the clip index carried the ground-truth location.
    index = clip_index(clips).drop(columns=["ground_truth_path"])
    with pytest.raises(ValueError, match=r"lacks columns \['ground_truth_path'\].*rerun "
                                         r"`kedro run --pipelines ingestion`"):
        preprocess_clips(index, CHECKED, ClipCache(tmp_path), FAST_PARAMS)


def test_tasks_carry_the_ground_truth_file_outside_the_cache_key(clips):
    config = PreprocessingConfig.from_params(FAST_PARAMS)
    truths = {clip_id: f"/corpus/ground_truth/{clip_id}.npz" for clip_id in clips}
    with_truth = clip_tasks(clip_index(clips, truths), config)
    # Ingestion writes the column as nullable strings: pd.NA where there is no ground truth.
    without = clip_tasks(clip_index(clips).astype({"ground_truth_path": "string"}), config)
    assert [t.key for t in with_truth] == [t.key for t in without]
    assert [t.ground_truth for t in with_truth] == list(truths.values())
    assert [t.ground_truth for t in without] == [None] * len(clips)


def test_summary_metrics_and_digest():
    quality = pd.DataFrame(
        {"clip_id": ["a", "b"], "flow_epe": [0.1, 0.3], "flow_epe_worst_pair": [0.2, 0.4],
         "flow_epe_zero": [0.5, 0.5], "expression_epe": [0.2, 0.2],
         "expression_epe_zero": [0.3, 0.3], "rigid_residual_px": [0.0, 1.0],
         "rigid_residual_px_worst_frame": [0.1, 2.0], "landmark_nme": [0.02, 0.04]}
    )
    metrics = summarise_quality(quality)
    assert metrics["flow_epe.mean"] == {"value": pytest.approx(0.2), "step": 0}
    assert metrics["rigid_residual_px.mean"]["value"] == pytest.approx(0.5)
    assert metrics["rigid_residual_px.p95"]["value"] == pytest.approx(0.95)
    assert metrics["landmark_nme.median"]["value"] == pytest.approx(0.03)
    assert metrics["clips_with_truth"]["value"] == 2
    assert summarise_quality(quality.iloc[:0]) == {}
    manifest = describe_preprocessing(
        pd.DataFrame({"clip_id": ["b", "a"], "content_key": ["k2", "k1"]}),
        pd.DataFrame({"clip_id": ["a", "b", "c"], "n_frames": [30, 41, 99]}),
        FAST_PARAMS,
    )
    assert manifest["preprocessed_keys_digest"] == index_digest(["k1", "k2"])
    assert manifest["n_clips"] == 2
    assert manifest["clip_frames"] == {"min": 30, "median": 35.5, "max": 41}
    settings = manifest["settings"]
    assert settings == PreprocessingConfig.from_params(FAST_PARAMS).output_settings()
    assert PreprocessingConfig.from_settings(settings).output_settings() == settings


def test_stabilised_clips_get_a_before_and_after_figure(clips, tmp_path):
    """The test clips drift: stabilised, the difference from the onset shrinks, and the
    figure says so in its titles."""
    cache = ClipCache(tmp_path / "cache")
    index, _, _ = run(clips, cache, stabilisation="ecc")
    figures = render_qa_figures(clip_index(clips), index, cache, qa_clips=1)
    assert sorted(figures) == ["casme2_sub01_EP01.png", "casme2_sub01_EP01_stabilisation.png"]
    titles = [axis.get_title() for axis in figures["casme2_sub01_EP01_stabilisation.png"].axes]
    before, after = ([float(t.rsplit(" ", 1)[1]) for t in titles if t.startswith(name)]
                     for name in ("clip transform only", "stabilised"))
    assert len(before) == len(after) == 2
    assert after[1] < 0.7 * before[1]
    plain, _, _ = run(clips, ClipCache(tmp_path / "plain"))
    assert sorted(render_qa_figures(clip_index(clips), plain, ClipCache(tmp_path / "plain"),
                                    qa_clips=1)) == ["casme2_sub01_EP01.png"]


def test_qa_figures_without_ground_truth(clips, tmp_path):
    cache = ClipCache(tmp_path / "cache")
    index, _, _ = run(clips, cache)
    figures = render_qa_figures(clip_index(clips), index, cache, qa_clips=2)
    assert sorted(figures) == ["casme2_sub01_EP01.png", "casme2_sub02_EP02.png"]
    texts = [t.get_text() for axis in figures["casme2_sub01_EP01.png"].axes for t in axis.texts]
    assert "no ground truth" in texts


def test_a_clip_index_that_failed_the_check_is_refused(clips, tmp_path):
    index = clip_index(clips)
    index.attrs["ingestion_id"] = "new"
    with pytest.raises(ValueError, match=r"the clip index \(ingestion new\) has not passed "
                                         r"ingestion's check \(the last summary is of ingestion "
                                         r"old\)"):
        preprocess_clips(index, {"ingestion_id": "old"}, ClipCache(tmp_path), FAST_PARAMS)
