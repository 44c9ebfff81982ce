"""The motion model of one clip: expression field, temporal envelope and rigid head jitter.

Frame ``t`` is rendered by sampling the onset (neutral) face at the backward map

    B_t(x) = y - a_t E(y),   y = J_t^-1(x)

where ``E`` is the action-unit field at apex, ``a_t`` the envelope (0 at onset and offset,
1 at apex) and ``J_t`` a small rigid motion about the face centre (identity at onset).
The forward map ``F_t = B_t^-1`` (where an onset point goes) is the ground truth; it is
found by fixed-point iteration, which converges because ``|a_t grad E| < 0.5`` (the
amplitude limit of :mod:`micro_expression.synthetic.params`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from micro_expression.synthetic.action_units import Bumps

FIXED_POINT_TOLERANCE_PX = 1e-7
FIXED_POINT_MAX_ITERATIONS = 100


def envelope(frame_count: int, apex_index: int) -> np.ndarray:
    """Smooth rise onset -> apex and fall apex -> offset (sin^2 / cos^2 ramps), in [0, 1]."""
    index = np.arange(frame_count, dtype=np.float64)
    rise = np.sin(0.5 * np.pi * index / max(apex_index, 1)) ** 2
    fall = np.cos(0.5 * np.pi * (index - apex_index) / max(frame_count - 1 - apex_index, 1)) ** 2
    return np.where(index <= apex_index, rise, fall)


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    # Element-wise rather than ``points @ R``: a BLAS call on (N, 2) is slower and threads.
    cos, sin = np.cos(angle), np.sin(angle)
    x, y = points[:, 0], points[:, 1]
    return np.stack([cos * x - sin * y, sin * x + cos * y], axis=1)


@dataclass(frozen=True)
class ClipMotion:
    """Everything that moves in a clip; arrays are float64.

    ``envelope (T,)``; ``jitter (T, 3)`` rows ``(angle rad, tx, ty)`` with row 0 all zero;
    ``centre (2,)`` the rotation centre of the jitter.
    """

    bumps: Bumps
    envelope: np.ndarray
    jitter: np.ndarray
    centre: np.ndarray

    @property
    def frame_count(self) -> int:
        return len(self.envelope)

    def head_to_onset(self, points: np.ndarray, t: int) -> np.ndarray:
        """``J_t^-1``: undo frame ``t``'s rigid head motion."""
        angle, tx, ty = self.jitter[t]
        return _rotate(points - self.centre - (tx, ty), -angle) + self.centre

    def onset_to_head(self, points: np.ndarray, t: int) -> np.ndarray:
        """``J_t``: apply frame ``t``'s rigid head motion."""
        angle, tx, ty = self.jitter[t]
        return _rotate(points - self.centre, angle) + self.centre + (tx, ty)

    def backward(self, points: np.ndarray, t: int) -> np.ndarray:
        """Onset-frame position shown at ``(N, 2)`` points of frame ``t``."""
        unjittered = self.head_to_onset(points, t)
        return unjittered - self.envelope[t] * self.bumps.displacement(unjittered)

    def forward(self, points: np.ndarray, t: int) -> np.ndarray:
        """Frame-``t`` position of ``(N, 2)`` onset points (inverse of :meth:`backward`)."""
        strength = self.envelope[t]
        moved = np.asarray(points, dtype=np.float64).copy()
        if strength > 0 and len(self.bumps.radii):
            # Only points within reach of a bump can move; the rest are fixed points already.
            reach = strength * np.linalg.norm(self.bumps.vectors, axis=1).sum()
            x0, y0, x1, y1 = self.bumps.support_box(margin=reach + 1)
            active = np.flatnonzero(
                (moved[:, 0] > x0) & (moved[:, 0] < x1) & (moved[:, 1] > y0) & (moved[:, 1] < y1)
            )
            start = moved[active]
            solution = start.copy()
            # A contraction: once a point moves by less than the tolerance it has converged.
            pending = np.arange(len(active))
            for _ in range(FIXED_POINT_MAX_ITERATIONS):
                update = start[pending] + strength * self.bumps.displacement(solution[pending])
                change = np.abs(update - solution[pending]).max(axis=1)
                solution[pending] = update
                pending = pending[change >= FIXED_POINT_TOLERANCE_PX]
                if len(pending) == 0:
                    break
            moved[active] = solution
        return self.onset_to_head(moved, t)


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
