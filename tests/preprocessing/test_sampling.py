import numpy as np
import pytest

from micro_expression.preprocessing.sampling import (
    ClipTooShortError,
    even_sample,
    frame_numbers,
    sample_indices,
    strided_samples,
)


@pytest.mark.parametrize("n_frames", [8, 9, 15, 33, 200])
def test_even_sample_spans_onset_to_offset_without_repeats(n_frames):
    sample = even_sample(n_frames)
    assert sample.shape == (1, 8)
    assert sample[0, 0] == 0 and sample[0, -1] == n_frames - 1
    assert np.all(np.diff(sample[0]) >= 1)


def test_even_sample_is_even():
    assert even_sample(15).tolist() == [[0, 2, 4, 6, 8, 10, 12, 14]]


def test_strided_samples_follow_the_reference_scheme():
    # The public MOL code: interval = n // 8, sample j takes frames i * interval + j.
    n_frames = 20
    interval = n_frames // 8
    expected = [[i * interval + j for i in range(8)] for j in range(interval)]
    assert strided_samples(n_frames).tolist() == expected


def test_strided_samples_with_a_fixed_stride_keep_only_offsets_that_fit():
    samples = strided_samples(24, stride=3)
    assert samples.shape == (3, 8)
    assert samples[:, -1].tolist() == [21, 22, 23]
    assert strided_samples(23, stride=3).shape == (2, 8)


@pytest.mark.parametrize("scheme", ["even", "strided"])
def test_a_clip_shorter_than_a_sample_is_refused(scheme):
    with pytest.raises(ClipTooShortError, match="5 frames, need at least 8"):
        sample_indices(5, scheme)


def test_stride_too_long_for_the_clip_is_refused():
    with pytest.raises(ClipTooShortError, match="stride 4"):
        strided_samples(20, stride=4)


def test_unknown_scheme_is_named():
    with pytest.raises(ValueError, match="'random'"):
        sample_indices(20, "random")


def test_frame_numbers_come_from_the_file_names():
    assert frame_numbers(["/a/img46.jpg", "/a/img47.jpg"]).tolist() == [46, 47]
    assert frame_numbers(["/s/006_05562.jpg", "/s/006_05563.jpg"]).tolist() == [5562, 5563]
    assert frame_numbers(["/x/first.jpg", "/x/second.jpg"]).tolist() == [0, 1]
