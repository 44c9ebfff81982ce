import cv2
import numpy as np
import pytest

from micro_expression.flow.tvl1 import (
    brightness_matched,
    create_tvl1,
    tvl1_flow,
    tvl1_sequence,
)


def smooth_texture(size: int = 144, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.standard_normal((size, size)), (0, 0), 3)


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Exact sub-pixel translation (periodic) by a phase ramp: content moves by (+dx, +dy)."""
    ky = np.fft.fftfreq(image.shape[0])[:, None]
    kx = np.fft.fftfreq(image.shape[1])[None, :]
    return np.real(np.fft.ifft2(np.fft.fft2(image) * np.exp(-2j * np.pi * (kx * dx + ky * dy))))


def to_uint8(image: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(128 + 60 * image / scale, 0, 255).astype(np.uint8)


def test_recovers_a_known_sub_pixel_shift():
    texture = smooth_texture()
    first = to_uint8(texture, texture.std())
    second = to_uint8(shifted(texture, 0.4, -0.25), texture.std())
    flow = tvl1_flow(create_tvl1(), first, second)
    assert flow.shape == (144, 144, 2) and flow.dtype == np.float32
    inner = flow[16:-16, 16:-16]
    error = np.hypot(inner[..., 0] - 0.4, inner[..., 1] + 0.25)
    assert error.mean() < 0.1
    assert np.allclose(inner.mean(axis=(0, 1)), (0.4, -0.25), atol=0.1)


def test_parameters_reach_the_estimator():
    estimator = create_tvl1(
        {"tau": 0.2, "lambda": 0.3, "nscales": 3, "warps": 2, "median_filtering": 3,
         "use_initial_flow": True}
    )
    assert estimator.getTau() == pytest.approx(0.2)
    assert estimator.getLambda() == pytest.approx(0.3)
    assert (estimator.getScalesNumber(), estimator.getWarpingsNumber()) == (3, 2)
    assert estimator.getMedianFiltering() == 3 and estimator.getUseInitialFlow()


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="lamda"):
        create_tvl1({"lamda": 0.1})


def test_images_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="one size"):
        tvl1_flow(create_tvl1(), np.zeros((32, 32), np.uint8), np.zeros((32, 31), np.uint8))


@pytest.mark.parametrize("seeded", [False, True])
def test_sequence_gives_one_flow_per_consecutive_pair(seeded):
    texture = smooth_texture(64)
    frames = np.stack([to_uint8(shifted(texture, 0.5 * t, 0.0), texture.std()) for t in range(4)])
    flows = tvl1_sequence(create_tvl1({"nscales": 3, "use_initial_flow": seeded}), frames)
    assert flows.shape == (3, 64, 64, 2)
    assert np.allclose(flows[:, 12:-12, 12:-12].mean(axis=(1, 2)), (0.5, 0.0), atol=0.1)


def test_brightness_matching_keeps_a_flicker_from_reading_as_motion():
    """A 0.1 px shift under a 2 % brightness change (a few grey levels, as a flickering light
    or the generated corpus's flicker): matched brightness recovers the shift."""
    texture = smooth_texture(seed=3)
    first = to_uint8(texture, texture.std())
    second = np.clip(to_uint8(shifted(texture, 0.1, 0.0), texture.std()) * 1.02, 0, 255)
    frames = np.stack([first, second.astype(np.uint8)])

    def error(images):
        inner = tvl1_flow(create_tvl1(), images[0], images[1])[16:-16, 16:-16]
        return np.hypot(inner[..., 0] - 0.1, inner[..., 1]).mean()

    matched = brightness_matched(frames, "gain")
    assert matched.dtype == np.float32 and matched.max() <= 1.0
    assert matched[1].mean() == pytest.approx(matched[0].mean(), rel=1e-5)
    assert error(matched) < 0.5 * error(frames)
    assert error(matched) < 0.05
    assert brightness_matched(frames, "none") is frames


def test_unknown_brightness_matching_is_named():
    with pytest.raises(ValueError, match="brightness matching must be one of"):
        brightness_matched(np.zeros((2, 8, 8), np.uint8), "histogram")
