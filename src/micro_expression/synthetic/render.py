"""Render a clip's frames: one ``cv2.remap`` of the neutral face per frame, then nuisance.

The expression field is tabulated exactly once per clip on a half-pixel grid over its
support and read back with bicubic interpolation at the jittered positions (within 0.005 px
of the exact field); everything else is vectorised array arithmetic. The final ``cv2.remap``
of the face resolves sample positions to 1/32 pixel.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from micro_expression.flow.deformation import ClipMotion

# Cells per pixel of the tabulated expression field (see FrameRenderer).
FIELD_SUPERSAMPLING = 2


@dataclass(frozen=True)
class Illumination:
    """Per-frame global gain ``(T,)`` and left-to-right gain slope ``(T,)`` (relative)."""

    gain: np.ndarray
    slope: np.ndarray


def _clamped_slice(low: float, high: float, size: int) -> slice:
    """Whole pixels covering ``[low, high]``, clipped to ``[0, size)`` (possibly empty)."""
    start = min(max(int(np.floor(low)), 0), size)
    return slice(start, max(min(int(np.ceil(high)) + 1, size), start))


class FrameRenderer:
    """Renders frames of one clip from its neutral face (BGR float32) and motion."""

    def __init__(self, neutral: np.ndarray, motion: ClipMotion):
        self.neutral = neutral
        self.motion = motion
        height, width = neutral.shape[:2]
        self.grid_x, self.grid_y = np.meshgrid(
            np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
        )
        # The field is tabulated on a grid finer than the pixels: remap rounds positions to
        # 1/32 of a cell, which the finer cells turn into a negligible displacement error.
        x0, y0, x1, y1 = motion.bumps.support_box(margin=2)
        self.field_origin = np.array([x0, y0], dtype=np.float32)
        columns = int(np.ceil((x1 - x0) * FIELD_SUPERSAMPLING)) + 1
        rows = int(np.ceil((y1 - y0) * FIELD_SUPERSAMPLING)) + 1
        self.field = motion.bumps.tabulate(
            (x0, y0), 1 / FIELD_SUPERSAMPLING, (rows, columns)
        ).astype(np.float32)
        # Frame pixels whose un-jittered position can fall on the field's support.
        reach = int(np.ceil(self._max_jitter_reach())) + 1
        self.window = (
            _clamped_slice(y0 - reach, y1 + reach, height),
            _clamped_slice(x0 - reach, x1 + reach, width),
        )

    def _max_jitter_reach(self) -> float:
        height, width = self.neutral.shape[:2]
        corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], dtype=np.float64)
        return max(
            np.abs(self.motion.head_to_onset(corners, t) - corners).max()
            for t in range(self.motion.frame_count)
        )

    def sample_map(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """``B_t`` on the pixel grid as float32 ``(map_x, map_y)`` for ``cv2.remap``."""
        angle, tx, ty = self.motion.jitter[t]
        cx, cy = self.motion.centre
        cos, sin = np.cos(angle), np.sin(angle)
        # J_t^-1(x) = R(-angle) (x - c - t) + c, one affine combination of the grids per axis.
        dx, dy = -(cx + tx), -(cy + ty)
        map_x = cv2.addWeighted(self.grid_x, cos, self.grid_y, sin, cos * dx + sin * dy + cx)
        map_y = cv2.addWeighted(self.grid_y, cos, self.grid_x, -sin, cos * dy - sin * dx + cy)
        strength = np.float32(self.motion.envelope[t])
        if strength > 0:
            rows, cols = self.window
            local_x = (map_x[rows, cols] - self.field_origin[0]) * np.float32(FIELD_SUPERSAMPLING)
            local_y = (map_y[rows, cols] - self.field_origin[1]) * np.float32(FIELD_SUPERSAMPLING)
            field = cv2.remap(
                self.field, local_x, local_y, cv2.INTER_CUBIC,
                borderMode=cv2.BORDER_CONSTANT, borderValue=0,
            )  # fmt: skip
            map_x[rows, cols] -= strength * field[..., 0]
            map_y[rows, cols] -= strength * field[..., 1]
        return map_x, map_y

    def clean_frame(self, t: int) -> np.ndarray:
        """Frame ``t`` before illumination, noise and compression (BGR float32)."""
        map_x, map_y = self.sample_map(t)
        return cv2.remap(
            self.neutral, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101
        )


def sample_illumination(
    rng: np.random.Generator, frame_count: int, flicker: float
) -> Illumination:
    """Flicker: a slow oscillation plus per-frame jitter of the gain, and a drifting slope."""
    t = np.arange(frame_count)
    period = rng.uniform(6, 20)
    gain = 1 + flicker * (
        0.6 * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
        + 0.4 * np.clip(rng.standard_normal(frame_count), -2.5, 2.5)
    )
    slope = flicker * 0.5 * np.sin(2 * np.pi * t / rng.uniform(20, 60) + rng.uniform(0, 2 * np.pi))
    return Illumination(gain=gain, slope=slope)


def render_frames(
    renderer: FrameRenderer,
    illumination: Illumination,
    sensor_noise: float,
    noise_seeds: np.ndarray,
) -> Iterator[np.ndarray]:
    """Yield each frame as uint8 BGR: clean frame x illumination + Gaussian sensor noise.

    The noise is luminance noise (the same on the three channels): 4:2:0 JPEG discards
    most chroma noise anyway, and it costs a third of per-channel noise.
    """
    height, width = renderer.neutral.shape[:2]
    ramp = (np.arange(width, dtype=np.float32) - width / 2) / width
    ramp = np.ascontiguousarray(np.broadcast_to(ramp[None, :, None], (height, width, 3)))
    lit = np.empty((height, width, 3), np.float32)
    noise = np.empty((height, width), np.float32)
    for t in range(renderer.motion.frame_count):
        frame = renderer.clean_frame(t)
        # frame x (gain + slope x ramp), with OpenCV's fast element-wise kernels.
        cv2.multiply(frame, ramp, dst=lit)
        cv2.addWeighted(frame, illumination.gain[t], lit, illumination.slope[t], 0.0, dst=frame)
        if sensor_noise > 0:
            # OpenCV's generator is several times faster than numpy's for a full frame.
            cv2.setRNGSeed(int(noise_seeds[t]))
            cv2.randn(noise, 0.0, sensor_noise)
            cv2.add(frame, cv2.merge([noise, noise, noise]), dst=frame)
        cv2.threshold(frame, 0, 0, cv2.THRESH_TOZERO, dst=frame)  # convertScaleAbs takes |x|
        yield cv2.convertScaleAbs(frame)


def encode_jpeg(frame: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of a uint8 BGR frame."""
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV failed to encode a JPEG frame")
    return encoded.tobytes()
