"""Similarity alignment of a face into a square crop, from its 68 landmarks.

A transform is a (2, 3) float64 matrix mapping image pixels (x, y) to crop pixels, usable
directly by ``cv2.warpAffine``. The crop puts the eye centroids on a horizontal line and
centres the bounding box of the 68 landmarks (taken in that levelled frame) in the crop,
scaled so that its longer side plus ``margin`` times that side on each end fills the crop
(:func:`similarity_to_crop`); or, as the public MOL code does, centres the box of five of
them, enlarged 2.5 times (:func:`five_point_similarity`).
"""

from __future__ import annotations

import cv2
import numpy as np

from micro_expression.face.points import IMAGE_LEFT_EYE, IMAGE_RIGHT_EYE


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroids of points 36-41 and 42-47 (image-left eye first), shape (..., 2) each."""
    points = np.asarray(landmarks, dtype=np.float64)
    return (points[..., IMAGE_LEFT_EYE, :].mean(axis=-2),
            points[..., IMAGE_RIGHT_EYE, :].mean(axis=-2))


def inter_ocular_distance(landmarks: np.ndarray) -> np.ndarray | float:
    """Distance between the two eye centroids, for (68, 2) or batched (..., 68, 2) landmarks."""
    first, second = eye_centres(landmarks)
    return np.linalg.norm(second - first, axis=-1)


def levelling_rotation(landmarks: np.ndarray) -> np.ndarray:
    """The (2, 2) rotation that turns the axis from the first eye centroid to the second onto
    +x; raises ``ValueError`` when the two coincide."""
    first_eye, second_eye = eye_centres(landmarks)
    dx, dy = second_eye - first_eye
    if np.hypot(dx, dy) < 1e-6:
        raise ValueError("eye centroids coincide: cannot align these landmarks")
    angle = np.arctan2(dy, dx)
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([[cos, sin], [-sin, cos]])


def similarity_to_crop(
    landmarks: np.ndarray, crop_size: int = 144, margin: float = 0.1
) -> np.ndarray:
    """Rotation + uniform scale + shift putting the eyes level and the face centred in the crop."""
    rotation = levelling_rotation(landmarks)

    rotated = np.asarray(landmarks, dtype=np.float64) @ rotation.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    scale = crop_size / ((1.0 + 2.0 * margin) * float(np.max(high - low)))
    centre = 0.5 * (low + high)
    linear = scale * rotation
    shift = np.full(2, (crop_size - 1) / 2.0) - scale * centre
    return np.hstack([linear, shift[:, None]])


FIVE_POINT_BOX_ENLARGE = 2.5
"""The public MOL code's crop: this many times the longer side of the five points' box."""


def five_point_similarity(landmarks: np.ndarray, crop_size: int = 144,
                          box_enlarge: float = FIVE_POINT_BOX_ENLARGE) -> np.ndarray:
    """The public MOL code's alignment (``utils/align_face.py`` at 0a75455): eyes levelled,
    then the box of five points (the two eye centroids, the nose tip 30, the mouth corners 48
    and 54) centred, its longer side times ``box_enlarge`` spanning ``crop_size - 1`` pixels."""
    first_eye, second_eye = eye_centres(landmarks)
    rotation = levelling_rotation(landmarks)
    points = np.asarray(landmarks, dtype=np.float64)
    five = np.stack([first_eye, second_eye, points[30], points[48], points[54]]) @ rotation.T
    low, high = five.min(axis=0), five.max(axis=0)
    half = 0.5 * box_enlarge * float(np.max(high - low))
    scale = (crop_size - 1) / 2.0 / half
    shift = scale * (half - 0.5 * (low + high))
    return np.hstack([scale * rotation, shift[:, None]])


def warp_to_crop(image: np.ndarray, transform: np.ndarray, crop_size: int = 144,
                 border: int | None = None) -> np.ndarray:
    """The crop of ``image`` under ``transform`` (bilinear); outside the image the crop
    replicates the edge pixels, or is ``border`` grey (the public MOL code's 128)."""
    if border is None:
        return cv2.warpAffine(image, transform, (crop_size, crop_size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpAffine(image, transform, (crop_size, crop_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def transform_points(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """A new array of ``points`` (..., 2) mapped through the (2, 3) ``transform``."""
    points = np.asarray(points, dtype=np.float64)
    return points @ transform[:, :2].T + transform[:, 2]


def transform_vectors(vectors: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Displacement vectors (..., 2) mapped through the linear part of ``transform``."""
    return np.asarray(vectors, dtype=np.float64) @ transform[:, :2].T
