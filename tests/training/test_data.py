import numpy as np
import pandas as pd
import pytest
import torch

from micro_expression.io.clip_cache import ClipCache
from micro_expression.training.data import (
    CROP_SIZE,
    ClipSamples,
    centre_offset,
    class_names,
    crop_window,
    fold_clip_table,
    random_offset,
    shift_landmarks,
)
from tests.training.corpus import CLASSES, clip_arrays, write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    index = write_corpus(folder, subjects=2, samples=2)
    return ClipCache(folder), index.assign(target=index["label_id"])


def marked_sample(rng):
    """Frames whose pixel under each landmark holds the landmark's number (1..68)."""
    frames = np.zeros((8, 144, 144), np.uint8)
    flows = rng.normal(size=(7, 144, 144, 2)).astype(np.float16)
    landmarks = rng.integers(10, 134, size=(8, 68, 2)).astype(np.float32)
    for t in range(8):
        frames[t, landmarks[t, :, 1].astype(int), landmarks[t, :, 0].astype(int)] = np.arange(1, 69)
    return frames, flows, landmarks


def test_random_crop_moves_landmarks_with_the_window_and_leaves_the_source_alone():
    rng = np.random.default_rng(0)
    frames, flows, landmarks = marked_sample(rng)
    sources = [a.copy() for a in (frames, flows, landmarks)]
    for _ in range(5):
        top, left = random_offset(rng, 144)
        cropped_frames = crop_window(frames, top, left)
        cropped_flows = crop_window(flows, top, left, vectors=True)
        cropped_landmarks = shift_landmarks(landmarks, top, left)
        assert cropped_frames.shape == (8, CROP_SIZE, CROP_SIZE)
        np.testing.assert_array_equal(cropped_flows, flows[:, top:top + 128, left:left + 128])
        x, y = cropped_landmarks[..., 0].astype(int), cropped_landmarks[..., 1].astype(int)
        inside = (x >= 0) & (x < CROP_SIZE) & (y >= 0) & (y < CROP_SIZE)
        t, point = np.nonzero(inside)
        assert inside.sum() > 100
        np.testing.assert_array_equal(cropped_frames[t, y[inside], x[inside]], point + 1)
    for source, array in zip(sources, (frames, flows, landmarks)):
        np.testing.assert_array_equal(source, array)


def test_repeated_crops_of_a_stored_clip_do_not_shift_its_landmarks(corpus):
    store, index = corpus
    samples = ClipSamples(index, store, augment=True, seed=0)
    stored = samples.clip_arrays(0).landmarks.copy()
    for epoch in range(3):
        samples.set_epoch(epoch)
        samples[0]
    np.testing.assert_array_equal(samples.clip_arrays(0).landmarks, stored)
    assert not samples.clip_arrays(0).landmarks.flags.writeable


def test_centre_crop_is_deterministic(corpus):
    store, index = corpus
    first = ClipSamples(index, store, augment=False)
    second = ClipSamples(index, store, augment=False)
    second.set_epoch(7)
    for key, value in first[1].items():
        torch.testing.assert_close(value, second[1][key])
    arrays = first.clip_arrays(0)
    expected = arrays.landmarks[0, 1:] - np.array(centre_offset(144)[::-1], np.float32)
    np.testing.assert_array_equal(first[0]["landmarks"].numpy(), expected)


def test_random_crops_repeat_for_a_seed_and_epoch_and_change_across_epochs(corpus):
    store, index = corpus
    a = ClipSamples(index, store, augment=True, seed=5)
    b = ClipSamples(index, store, augment=True, seed=5)
    torch.testing.assert_close(a[2]["frames"], b[2]["frames"])
    b.set_epoch(1)
    assert not torch.equal(a[2]["frames"], b[2]["frames"])


def test_sample_tensors_have_model_shapes_and_grey_levels(corpus):
    store, index = corpus
    samples = ClipSamples(index, store, augment=True)
    assert len(samples) == 2 * len(index)
    item = samples[3]
    assert set(item) == {"frames", "flow", "landmarks", "label", "clip"}
    assert item["frames"].shape == (8, 128, 128)
    assert item["flow"].shape == (7, 2, 128, 128)
    assert item["landmarks"].shape == (7, 68, 2)
    assert item["label"].item() == index["target"].iloc[1]
    # Frames stay grey levels: the model normalises them itself.
    window = samples.clip_arrays(1).frames[1]
    assert item["frames"].min() >= window.min() and item["frames"].max() <= window.max()
    assert item["frames"].max().item() > 100
    # Flow channel 0 is x: the negative class moves its blob 2 px along x.
    negative = samples[0]["flow"]
    assert negative[:, 0].max().item() == 2.0 and negative[:, 1].abs().max().item() == 0.0


def test_fields_choose_what_a_sample_holds(corpus):
    store, index = corpus
    baseline = ClipSamples(index, store, augment=False, fields=("apex_flow",))[0]
    assert set(baseline) == {"apex_flow", "label", "clip"}
    assert baseline["apex_flow"].shape == (2, 128, 128)
    # The negative blob's whole displacement (7 frames x 2 px along x), in channel 0.
    assert baseline["apex_flow"][0].max().item() == 14.0
    assert baseline["apex_flow"][1].abs().max().item() == 0.0
    recognition_only = ClipSamples(index, store, augment=False, fields=("frames",))[0]
    assert set(recognition_only) == {"frames", "label", "clip"}
    with pytest.raises(ValueError, match=r"unknown sample fields \['optical_strain'\]"):
        ClipSamples(index, store, augment=False, fields=("frames", "optical_strain"))


def test_a_clip_with_wrong_shapes_is_named(tmp_path):
    store = ClipCache(tmp_path)
    arrays = clip_arrays("positive", np.random.default_rng(0))
    arrays["flows"] = arrays["flows"][:, :6]
    path = store.write_atomic("bad", arrays)
    table = pd.DataFrame([{"clip_id": "c", "subject": "s", "dataset": "d", "label": "positive",
                           "content_key": "bad", "n_samples": 1, "target": 1}])
    with pytest.raises(ValueError, match=f"{path}: 'flows' has shape"):
        ClipSamples(table, store, augment=False)[0]


def test_a_clip_from_an_older_preprocessing_is_named(tmp_path):
    store = ClipCache(tmp_path)
    arrays = clip_arrays("positive", np.random.default_rng(0))
    del arrays["landmarks_outside"], arrays["stabilisation_fallback"]
    path = store.write_atomic("old", arrays)
    table = pd.DataFrame([{"clip_id": "c", "subject": "s", "dataset": "d", "label": "positive",
                           "content_key": "old", "n_samples": 1, "target": 1}])
    with pytest.raises(ValueError, match=rf"{path}: a stored clip lacks arrays "
                                         r"\['landmarks_outside', 'stabilisation_fallback'\].*"
                                         r"--pipelines preprocessing"):
        ClipSamples(table, store, augment=False)[0]


def test_a_sample_count_that_disagrees_with_the_index_is_named(corpus):
    store, index = corpus
    wrong = index.head(1).assign(n_samples=3)
    with pytest.raises(ValueError, match="holds 2 samples, the index says 3"):
        ClipSamples(wrong, store, augment=False)[0]


def test_fold_clip_table_keeps_the_listed_classes_and_numbers_them():
    index = pd.DataFrame(
        [{"clip_id": f"c{i}", "subject": "s", "dataset": "d", "label": label, "label_id": i,
          "content_key": f"k{i}", "n_samples": 1} for i, label in enumerate(CLASSES)]
    )
    rows = pd.DataFrame({"clip_id": ["c0", "c1", "c2"], "role": ["train", "test", "train"]})
    table = fold_clip_table(index, rows, ["surprise", "negative"])
    rows = table[["clip_id", "target", "role"]].values.tolist()
    assert rows == [["c0", 1, "train"], ["c2", 0, "train"]]
    assert class_names(index) == list(CLASSES)
    with pytest.raises(ValueError, match="missing from preprocessed_index"):
        fold_clip_table(index, pd.DataFrame({"clip_id": ["zz"], "role": ["train"]}), CLASSES)
