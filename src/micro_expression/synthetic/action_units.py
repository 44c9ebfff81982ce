"""Action units as local displacement fields anchored on the 68 landmarks.

Each action unit is a few compactly supported bumps (Wendland C2 kernels) centred on
landmark groups, each pushing skin in a direction given in the face's own frame
(outward from the midline, up along the face). The field is exactly zero outside the bumps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BumpTemplate:
    """One bump: landmark group, push direction (outward, up), relative weight and radius.

    The radius is in units of the inter-ocular distance (between the eye centroids).
    """

    anchors: tuple[int, ...]
    direction: tuple[float, float]
    weight: float = 1.0
    radius: float = 0.3


def _pair(left: tuple[int, ...], right: tuple[int, ...], direction, weight=1.0, radius=0.3):
    return (
        BumpTemplate(left, direction, weight, radius),
        BumpTemplate(right, direction, weight, radius),
    )


# FACS action units used by the generator (dlib 68-point indices).
ACTION_UNITS: dict[int, tuple[BumpTemplate, ...]] = {
    1: _pair((20, 21), (22, 23), (0.0, 1.0), radius=0.42),  # inner brow raiser
    2: _pair((17, 18), (25, 26), (0.2, 1.0), radius=0.42),  # outer brow raiser
    4: _pair((19, 20, 21), (22, 23, 24), (-0.45, -0.9), radius=0.45),  # brow lowerer
    6: (  # cheek raiser: cheeks and lower lids up
        *_pair((2, 31, 40, 41), (14, 35, 46, 47), (0.15, 1.0), 0.8, 0.45),
        *_pair((40, 41), (46, 47), (0.0, 1.0), 0.4, 0.22),
    ),
    7: (  # lid tightener: lower lids up, outer eye corners inward
        *_pair((40, 41), (46, 47), (0.0, 1.0), 1.0, 0.25),
        *_pair((36,), (45,), (-1.0, 0.0), 0.5, 0.22),
    ),
    9: (  # nose wrinkler: nostril wings and upper lip up
        *_pair((31, 32), (34, 35), (-0.2, 1.0), 1.0, 0.3),
        BumpTemplate((50, 51, 52), (0.0, 1.0), 0.5, 0.3),
    ),
    12: _pair((48,), (54,), (0.6, 0.8), radius=0.4),  # lip corner puller
    14: _pair((48,), (54,), (-1.0, 0.1), 0.9, 0.35),  # dimpler
    15: _pair((48,), (54,), (0.15, -1.0), radius=0.4),  # lip corner depressor
    17: (BumpTemplate((8, 57), (0.0, 1.0), 1.0, 0.5),),  # chin raiser
}

# CASME II emotions and the action units that express them here (disjoint sets, so the
# class is carried by where and how the face moves).
EMOTION_ACTION_UNITS: dict[str, tuple[int, ...]] = {
    "happiness": (6, 12),
    "surprise": (1, 2),
    "disgust": (4, 9),
    "repression": (15, 17),
    "others": (7, 14),
}


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


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Midline point, unit ``right`` and ``up`` vectors, inter-ocular distance of a face."""
    left_eye, right_eye = landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0)
    distance = float(np.linalg.norm(right_eye - left_eye))
    right = (right_eye - left_eye) / distance
    up = np.array([right[1], -right[0]])  # image y grows downwards
    return landmarks[27:31].mean(axis=0), right, up, distance


def action_unit_bumps(
    landmarks: np.ndarray,
    strengths: dict[int, float],
    amplitude_px: float,
    side_gain: tuple[float, float],
    rng: np.random.Generator,
) -> Bumps:
    """Bumps of the given action units on a face; a strength of 1 peaks at ``amplitude_px``.

    ``side_gain`` scales the image-left and image-right halves (asymmetry); each bump's
    direction (+-10 degrees) and radius (+-15 %) are jittered from ``rng``.
    """
    midline, right, up, distance = face_frame(landmarks)
    centres, vectors, radii = [], [], []
    for unit in sorted(strengths):
        for template in ACTION_UNITS[unit]:
            centre = landmarks[list(template.anchors)].mean(axis=0)
            side = np.sign((centre - midline) @ right)
            outward, upward = template.direction
            direction = side * outward * right + upward * up
            angle = np.deg2rad(rng.uniform(-10, 10))
            rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            direction = rotation @ direction / np.linalg.norm(direction)
            gain = side_gain[0] if side < 0 else side_gain[1] if side > 0 else np.mean(side_gain)
            centres.append(centre)
            vectors.append(amplitude_px * strengths[unit] * template.weight * gain * direction)
            radii.append(template.radius * distance * rng.uniform(0.85, 1.15))
    return Bumps(
        centres=np.array(centres, dtype=np.float64).reshape(-1, 2),
        vectors=np.array(vectors, dtype=np.float64).reshape(-1, 2),
        radii=np.array(radii, dtype=np.float64),
    )
