"""A smooth parametric deformation of the image plane, and its forward and backward maps.

The deformation is a field ``E`` made of compactly supported bumps (Wendland C2 kernels),
scaled per frame by a temporal envelope ``a_t`` (0 at onset and offset, 1 at apex), plus a
small rigid head motion ``J_t`` about a centre (identity at onset). Frame ``t`` shows, at
pixel ``x``, the onset (neutral) image sampled at the backward map

    B_t(x) = y - a_t E(y),   y = J_t^-1(x)

and the forward map ``F_t = B_t^-1`` (where an onset point goes) is found by fixed-point
iteration, which converges because ``|a_t grad E| < 0.5`` (the generator's amplitude limit
keeps it there). These parameters are what a stored ground truth describes
(:mod:`micro_expression.readers.ground_truth`); dense fields are computed from them on demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIXED_POINT_TOLERANCE_PX = 1e-7
FIXED_POINT_MAX_ITERATIONS = 100

# Up to this many point-bump pairs, one broadcast beats a Python loop over the bumps.
_VECTORISED_ELEMENTS = 1 << 14


def _wendland(r: np.ndarray) -> np.ndarray:
    """Wendland's C2 kernel ``(1 - r)^4 (4 r + 1)``, zero for ``r >= 1``."""
    r = np.minimum(r, 1.0)
    return (1 - r) ** 4 * (4 * r + 1)


@dataclass(frozen=True)
class Bumps:
    """``K`` bumps: centres ``(K, 2)``, peak vectors ``(K, 2)`` in pixels, radii ``(K,)``."""

    centres: np.ndarray
    vectors: np.ndarray
    radii: np.ndarray

    def support_box(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` enclosing every bump's support, grown by ``margin``."""
        if len(self.radii) == 0:
            return (0.0, 0.0, 0.0, 0.0)
        low = (self.centres - self.radii[:, None]).min(axis=0) - margin
        high = (self.centres + self.radii[:, None]).max(axis=0) + margin
        return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))

    def displacement(self, points: np.ndarray) -> np.ndarray:
        """The field at ``(N, 2)`` points (float64), summed over bumps."""
        points = np.asarray(points, dtype=np.float64)
        field = np.zeros_like(points)
        if len(self.radii) == 0:
            return field
        if len(points) * len(self.radii) <= _VECTORISED_ELEMENTS:
            distance = np.linalg.norm(points[:, None, :] - self.centres, axis=2)
            return _wendland(distance / self.radii) @ self.vectors
        # Many points: keep those inside the support, then each bump visits its own square.
        x0, y0, x1, y1 = self.support_box()
        inside = np.flatnonzero(
            (points[:, 0] > x0) & (points[:, 0] < x1) & (points[:, 1] > y0) & (points[:, 1] < y1)
        )
        candidates = points[inside]
        values = np.zeros_like(candidates)
        for centre, vector, radius in zip(self.centres, self.vectors, self.radii):
            offset = candidates - centre
            near = np.flatnonzero((np.abs(offset[:, 0]) < radius) & (np.abs(offset[:, 1]) < radius))
            distance = np.hypot(offset[near, 0], offset[near, 1])
            values[near] += _wendland(distance / radius)[:, None] * vector
        field[inside] = values
        return field

    def tabulate(
        self, origin: tuple[float, float], step: float, shape: tuple[int, int]
    ) -> np.ndarray:
        """The field on the grid ``origin + step * (column, row)``, ``(rows, columns, 2)``.

        Each bump only fills the cells of its own square, so the cost follows the supports.
        """
        field = np.zeros((*shape, 2))
        for centre, vector, radius in zip(self.centres, self.vectors, self.radii):
            low = np.floor((centre - radius - origin) / step).astype(int)
            high = np.ceil((centre + radius - origin) / step).astype(int) + 1
            low, high = np.maximum(low, 0), np.minimum(high, shape[::-1])
            if (high <= low).any():
                continue
            xs = origin[0] + step * np.arange(low[0], high[0]) - centre[0]
            ys = origin[1] + step * np.arange(low[1], high[1]) - centre[1]
            distance = np.hypot(xs[None, :], ys[:, None])
            weight = _wendland(distance / radius)
            field[low[1] : high[1], low[0] : high[0]] += weight[..., None] * vector
        return field

    def max_gradient(self) -> float:
        """Upper bound of the field's Jacobian norm (sum of each bump's ``2.11 |v| / R``)."""
        return float((2.11 * np.linalg.norm(self.vectors, axis=1) / self.radii).sum())


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

    def without_head_motion(self) -> ClipMotion:
        """The same expression with the head held still (every jitter row the identity)."""
        return ClipMotion(self.bumps, self.envelope, np.zeros_like(self.jitter), self.centre)

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
