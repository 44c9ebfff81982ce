"""The motion the generator chooses for a clip: its temporal envelope and rigid head jitter.

Together with the action-unit bumps they make the clip's
:class:`~micro_expression.flow.deformation.ClipMotion`.
"""

from __future__ import annotations

import numpy as np


def envelope(frame_count: int, apex_index: int) -> np.ndarray:
    """Smooth rise onset -> apex and fall apex -> offset (sin^2 / cos^2 ramps), in [0, 1]."""
    index = np.arange(frame_count, dtype=np.float64)
    rise = np.sin(0.5 * np.pi * index / max(apex_index, 1)) ** 2
    fall = np.cos(0.5 * np.pi * (index - apex_index) / max(frame_count - 1 - apex_index, 1)) ** 2
    return np.where(index <= apex_index, rise, fall)


def _smooth_series(rng: np.random.Generator, frame_count: int) -> np.ndarray:
    """A smooth random series over the clip, zero at onset, peak magnitude 1."""
    t = np.linspace(0.0, 1.0, frame_count)
    series = np.zeros(frame_count)
    for _ in range(3):
        cycles, phase = rng.uniform(0.5, 3.0), rng.uniform(0, 2 * np.pi)
        series += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * cycles * t + phase)
    series = series - series[0]
    peak = np.abs(series).max()
    return series / peak if peak > 0 else series


def sample_head_jitter(
    rng: np.random.Generator, frame_count: int, level_px: float, face_width_px: float
) -> np.ndarray:
    """``(T, 3)`` rigid jitter ``(angle, tx, ty)``: translation up to ``level_px``, rotation
    moving the face's edge by about half that; row 0 (onset) is the identity."""
    tx = level_px * rng.uniform(0.5, 1.0) * _smooth_series(rng, frame_count)
    ty = level_px * rng.uniform(0.5, 1.0) * _smooth_series(rng, frame_count)
    angle_peak = level_px * rng.uniform(0.3, 0.7) / (0.5 * face_width_px)
    angle = angle_peak * _smooth_series(rng, frame_count)
    return np.stack([angle, tx, ty], axis=1)
