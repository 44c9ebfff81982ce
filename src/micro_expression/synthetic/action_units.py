"""Action units as local displacement fields anchored on the 68 landmarks.

Each action unit is a few compactly supported bumps (Wendland C2 kernels, see
:class:`~micro_expression.flow.deformation.Bumps`) centred on landmark groups, each pushing
skin in a direction given in the face's own frame (outward from the midline, up along the
face). The field is exactly zero outside the bumps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from micro_expression.flow.deformation import Bumps


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
