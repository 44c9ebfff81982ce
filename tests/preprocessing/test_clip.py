import os
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from micro_expression.face.alignment import eye_centres, five_point_similarity
from micro_expression.face.detection import detect_face, predict_landmarks
from micro_expression.preprocessing.clip import ClipRejected, Stopwatch, preprocess_clip
from micro_expression.preprocessing.config import PreprocessingConfig
from tests.preprocessing.clips import (
    CANVAS,
    FAST_PARAMS,
    GREY,
    astronaut_canvas,
    write_frames,
    write_moving_face_clip,
)
from tests.readers.fixtures import jpeg_declaring

FAST = PreprocessingConfig.from_params(FAST_PARAMS)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_moving_face_clip(tmp_path_factory.mktemp("clip") / "EP01", n_frames=12, jitter=1.0)


def config(**changes):
    return PreprocessingConfig.from_params({**FAST_PARAMS, **changes})


def test_per_clip_output_shapes_and_one_transform(clip):
    stopwatch = Stopwatch()
    arrays = preprocess_clip(clip, config(), stopwatch)
    assert arrays.frames.shape == (1, 8, 64, 64) and arrays.frames.dtype == np.uint8
    assert arrays.flows.shape == (1, 7, 64, 64, 2) and arrays.flows.dtype == np.float16
    assert arrays.landmarks.shape == (1, 8, 68, 2) and arrays.landmarks.dtype == np.float32
    assert arrays.frame_numbers.tolist() == [[46, 48, 49, 51, 52, 54, 55, 57]]
    assert arrays.transform.shape == (1, 8, 2, 3)
    assert np.all(arrays.transform == arrays.transform[0, 0])
    assert set(stopwatch.seconds) == {"decode", "detect", "landmarks", "stabilise", "warp", "tvl1",
                                     "apex"}


def test_per_frame_aligns_each_frame_on_its_own(clip):
    arrays = preprocess_clip(clip, config(alignment="per_frame"))
    transforms = arrays.transform[0]
    assert not np.allclose(transforms[0], transforms[-1])


def test_the_reference_crop_geometry_aligns_each_frame_as_the_public_code(clip):
    arrays = preprocess_clip(clip, config(alignment="per_frame", crop_geometry="reference",
                                          crop_size=144))
    first = cv2.imread(clip[0], cv2.IMREAD_GRAYSCALE)
    points = predict_landmarks(first, detect_face(first))
    np.testing.assert_allclose(arrays.transform[0, 0], five_point_similarity(points, 144))


def test_landmark_labels_are_where_the_face_is_in_the_crop(clip):
    """Landmarks found again on the stored 144 crop match the stored labels."""
    arrays = preprocess_clip(clip, PreprocessingConfig(tvl1=FAST_PARAMS["tvl1"]))
    for k in (0, 7):
        crop = arrays.frames[0, k]
        found = predict_landmarks(crop, detect_face(crop))
        left, right = eye_centres(found)
        distance = np.linalg.norm(right - left)
        assert np.linalg.norm(found - arrays.landmarks[0, k], axis=1).mean() < 0.08 * distance


def test_landmark_labels_are_independent_copies(clip):
    arrays = preprocess_clip(clip, config(sampling="strided"))
    assert arrays.landmarks.shape[0] == 12 // 8
    arrays.landmarks[0] += 5.0
    again = preprocess_clip(clip, config(sampling="strided"))
    assert not np.allclose(arrays.landmarks[0], again.landmarks[0])


def test_strided_sampling_gives_several_samples(tmp_path):
    paths = write_moving_face_clip(tmp_path / "EP02", n_frames=17)
    arrays = preprocess_clip(paths, config(sampling="strided"))
    assert arrays.frames.shape[:2] == (2, 8) and arrays.flows.shape[:2] == (2, 7)
    assert arrays.frame_numbers[:, 0].tolist() == [46, 47]


def test_reference_frame_falls_back_to_the_first_with_a_face(tmp_path):
    blank = np.full((*CANVAS, 3), GREY, np.uint8)
    paths = write_frames(tmp_path / "EP03", [blank] + [astronaut_canvas(0.2 * t) for t in range(9)])
    with pytest.raises(ClipRejected, match="no face found in"):
        preprocess_clip(paths, config(alignment="per_frame"))
    arrays = preprocess_clip(paths, config())
    assert arrays.frames.shape == (1, 8, 64, 64)
    assert arrays.frames[0, 0].std() < 1.0  # the blank onset, warped like the rest


def test_blank_clip_is_rejected_at_detection(tmp_path):
    blank = np.full((*CANVAS, 3), GREY, np.uint8)
    paths = write_frames(tmp_path / "EP04", [blank] * 8)
    with pytest.raises(ClipRejected, match="no face found in any of the 8 frames") as caught:
        preprocess_clip(paths, config())
    assert caught.value.stage == "detect" and caught.value.cacheable


def test_face_cut_at_the_border_is_rejected_at_landmarks(tmp_path):
    paths = write_frames(tmp_path / "EP05", [astronaut_canvas(-260 + 0.2 * t) for t in range(8)])
    with pytest.raises(ClipRejected, match="landmarks fall outside the 640x480 frame") as caught:
        preprocess_clip(paths, config())
    assert caught.value.stage == "landmarks" and "img46.jpg" in caught.value.reason


def test_face_with_a_few_points_past_the_border_is_aligned_and_counted(tmp_path):
    """The astronaut moved left until 3-4 jaw points leave the frame: aligned (the warp
    replicates the border), the count recorded per frame; refused when none may be out."""
    paths = write_frames(tmp_path / "EP10", [astronaut_canvas(-250 + 0.2 * t) for t in range(8)])
    arrays = preprocess_clip(paths, config())
    assert arrays.frames.shape == (1, 8, 64, 64)
    assert arrays.landmarks_outside.shape == (1, 8) and arrays.landmarks_outside.dtype == np.uint8
    assert 1 <= arrays.landmarks_outside.min() and arrays.landmarks_outside.max() <= 5
    with pytest.raises(ClipRejected, match=r"at most 0 may, preprocessing.max_landmarks_outside"):
        preprocess_clip(paths, config(max_landmarks_outside=0))


def test_stabilisation_follows_the_head_and_composes_with_the_clip_transform(clip):
    """The test clip drifts and turns: stabilised, every frame has its own transform, its
    crop lines up with the onset's, and the flow targets lose the drift."""
    kept = preprocess_clip(clip, config(flow_brightness="gain"))
    stabilised = preprocess_clip(clip, config(flow_brightness="gain", stabilisation="ecc"))
    assert not np.allclose(stabilised.transform[0, 0], stabilised.transform[0, -1])
    assert not stabilised.stabilisation_fallback.any()
    centre = (slice(0, 1), slice(None), slice(20, 44), slice(20, 44))
    drift = np.abs(kept.flows[centre].astype(np.float32)).mean()
    left = np.abs(stabilised.flows[centre].astype(np.float32)).mean()
    assert drift > 0.2 and left < 0.4 * drift
    first, last = (stabilised.frames[0, k].astype(np.float32)[16:48, 16:48] for k in (0, -1))
    unstable = kept.frames[0, -1].astype(np.float32)[16:48, 16:48]
    assert np.abs(last - first).mean() < 0.6 * np.abs(unstable - first).mean()


def test_stabilisation_needs_per_clip_alignment():
    with pytest.raises(ValueError, match="works with per_clip alignment"):
        config(alignment="per_frame", stabilisation="ecc")
    with pytest.raises(ValueError, match="stabilisation must be one of"):
        config(stabilisation="optical_flow")
    with pytest.raises(ValueError, match="max_landmarks_outside must be in 0..67"):
        config(max_landmarks_outside=68)


def test_corrupt_jpeg_is_rejected_at_decode(tmp_path):
    paths = write_moving_face_clip(tmp_path / "EP06", n_frames=8)
    data = open(paths[3], "rb").read()
    with open(paths[3], "wb") as file:
        file.write(data[: len(data) // 3])
    with pytest.raises(ClipRejected, match="cannot decode .*img49.jpg") as caught:
        preprocess_clip(paths, config())
    assert caught.value.stage == "decode"


def test_a_decompression_bomb_is_rejected_before_it_is_decoded(tmp_path, monkeypatch):
    """A 331-byte JPEG that declares 30000x30000 would take 900 MB to decode."""
    import micro_expression.preprocessing.clip as clip_module

    paths = write_moving_face_clip(tmp_path / "EP10", n_frames=8)
    Path(paths[0]).write_bytes(jpeg_declaring(30000, 30000))
    decoded = []
    monkeypatch.setattr(clip_module.cv2, "imdecode", lambda *a: decoded.append(a) or None)
    with pytest.raises(ClipRejected, match=r"img46.jpg: its header declares 900.0 Mpx, more "
                                           r"than the 40.0 Mpx a frame may have") as caught:
        preprocess_clip(paths, config())
    assert caught.value.stage == "decode" and not decoded


def test_a_fifo_among_the_frames_is_rejected_without_blocking(tmp_path):
    paths = write_moving_face_clip(tmp_path / "EP11", n_frames=8)
    Path(paths[0]).unlink()
    os.mkfifo(paths[0])
    with pytest.raises(ClipRejected, match=r"cannot read .*img46.jpg: not a regular file \(a "
                                           r"FIFO\)"):
        preprocess_clip(paths, config())


def test_frames_of_different_sizes_are_rejected_at_decode(tmp_path):
    """A clip whose later frames are smaller: without the check they would be warped as if
    they showed the same face, landmarks landing on the background."""
    paths = write_moving_face_clip(tmp_path / "EP09", n_frames=8)
    small = cv2.resize(cv2.imread(paths[5]), (400, 300))
    cv2.imwrite(paths[5], small)
    with pytest.raises(ClipRejected, match=r"frames differ in size: .*img46.jpg is 640x480, "
                                           r".*img51.jpg is 400x300") as caught:
        preprocess_clip(paths, config())
    assert caught.value.stage == "decode" and caught.value.cacheable


def test_missing_frame_is_a_rejection_that_is_not_cached(tmp_path):
    paths = write_moving_face_clip(tmp_path / "EP07", n_frames=8)
    paths[2] = str(tmp_path / "EP07" / "gone.jpg")
    with pytest.raises(ClipRejected, match="cannot read .*gone.jpg") as caught:
        preprocess_clip(paths, config())
    assert not caught.value.cacheable


def test_short_clip_is_rejected_at_sampling(tmp_path):
    paths = write_moving_face_clip(tmp_path / "EP08", n_frames=5)
    with pytest.raises(ClipRejected, match="5 frames, need at least 8") as caught:
        preprocess_clip(paths, config())
    assert caught.value.stage == "sampling"


def test_only_sampled_frames_are_decoded(clip, monkeypatch):
    import micro_expression.preprocessing.clip as clip_module

    decoded = []
    original = clip_module.read_gray
    monkeypatch.setattr(clip_module, "read_gray", lambda p: decoded.append(p) or original(p))
    preprocess_clip(clip, config())
    assert len(decoded) == 8 and cv2.haveImageReader(decoded[0])


def test_apex_flow_from_the_sheet_apex_holds_the_motion_since_the_onset(tmp_path):
    paths = write_moving_face_clip(tmp_path / "EP03", n_frames=12, step=(0.4, 0.2))
    arrays = preprocess_clip(paths, config(), apex=55)  # img55.jpg, 9 frames after the onset
    assert arrays.apex_flow.shape == (1, 64, 64, 2) and arrays.apex_flow.dtype == np.float16
    assert arrays.apex_frame_numbers.tolist() == [55] and arrays.apex_from_sheet.tolist() == [True]
    # The face drifts (0.4, 0.2) px per frame: 9 frames, mapped into the crop.
    expected = arrays.transform[0, 0, :, :2] @ np.array([3.6, 1.8])
    centre = arrays.apex_flow[0, 16:48, 16:48].astype(np.float32).reshape(-1, 2)
    np.testing.assert_allclose(np.median(centre, axis=0), expected, rtol=0.25)


def test_apex_without_a_usable_sheet_value_comes_from_the_flows(clip):
    for apex in (None, 999, 46):
        arrays = preprocess_clip(clip, config(), apex=apex)
        assert arrays.apex_from_sheet.tolist() == [False]
        assert arrays.apex_frame_numbers[0] in arrays.frame_numbers[0, 1:]


@pytest.mark.parametrize("apex", [None, 55])
def test_scoring_outputs_equal_the_training_ones_without_the_targets(tmp_path, apex):
    """What a model reads is the same whether or not the TV-L1 targets were computed."""
    paths = write_moving_face_clip(tmp_path / "EP12", n_frames=12, step=(0.4, 0.2))
    everything = preprocess_clip(paths, config(), apex=apex)
    timed = {}
    for outputs in ("frames", "apex_flow"):
        stopwatch = Stopwatch()
        reduced = preprocess_clip(paths, replace(config(), outputs=outputs), stopwatch, apex=apex)
        timed[outputs] = stopwatch.seconds.get("tvl1", 0.0)
        for name in ("frames", "landmarks", "transform", "frame_numbers", "landmarks_outside"):
            np.testing.assert_array_equal(getattr(reduced, name), getattr(everything, name))
        assert reduced.flows.shape == (1, 0, 64, 64, 2)
        if outputs == "apex_flow":
            np.testing.assert_array_equal(reduced.apex_flow, everything.apex_flow)
            assert reduced.apex_frame_numbers.tolist() == everything.apex_frame_numbers.tolist()
        else:
            assert reduced.apex_flow.shape == (1, 0, 0, 2)
            assert reduced.apex_frame_numbers.tolist() == [-1 if apex is None else apex]
    assert timed["frames"] == 0.0


def test_the_outputs_are_for_scoring_not_a_training_parameter():
    with pytest.raises(ValueError, match=r"unknown preprocessing parameters: \['outputs'\]"):
        config(outputs="frames")
    with pytest.raises(ValueError, match="outputs must be one of"):
        replace(FAST, outputs="flows")
    assert "outputs" not in FAST.output_settings()
    assert replace(FAST, outputs="frames").output_settings()["outputs"] == "frames"
