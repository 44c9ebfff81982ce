"""Stabilisation: register a frame to its clip's reference frame, so that the rigid head motion
goes and the face's own, non-rigid motion (the action units) stays.

A registration is a (2, 3) matrix ``W`` in OpenCV's ECC convention: it maps reference pixels
(x, y) to the pixels of the frame that show the same skin, so ``frame(W(x)) ~ reference(x)``.
Registrations are estimated in a padded copy of the clip's crop (:func:`padding`), which
holds the forehead the crop itself cuts off, over the upper face and forehead of the
reference frame (:func:`registration_mask`): never the background, which stands still in a
real recording while the head moves, nor the mouth and jaw, which move when people talk.
Action units move small, local patches of that region, so they barely pull a fit over all of
it. Measured on the generated corpus at 1.8 px of head motion (mean registration error on the
face, crop px, 4 clips): 0.045 for the upper face and forehead, 0.05 for the whole face and
forehead, 0.06 for the upper face without the eyes, 0.14 for a forehead band and the nose
bridge alone (too little texture), 0.31 for the landmark fit, 0.47 unregistered. On the real
talking-face videos (``benchmarks/real_videos.py``) cutting out the eyes did not help either.

Methods:

* ``landmarks``: a similarity fitted to the rigid landmarks (nose bridge, eye corners). dlib
  places them to about a pixel, so on its own it trades head motion for detector jitter.
* ``ecc``: intensity registration (``cv2.findTransformECC``, coarse to fine) on the rigid
  regions, started from the landmark fit. ECC's correlation ignores a change of gain and
  offset, so illumination flicker does not move it.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from micro_expression.face.alignment import (
    eye_centres,
    inter_ocular_distance,
    transform_points,
    warp_to_crop,
)

STABILISATIONS = ("none", "landmarks", "ecc")
MOTIONS = {"euclidean": cv2.MOTION_EUCLIDEAN, "affine": cv2.MOTION_AFFINE}

RIGID_LANDMARKS = (27, 28, 29, 30, 36, 39, 42, 45)
"""Nose bridge and eye corners: points that move with the skull, not with expressions."""

PAD_FRACTION = 0.4
"""Padding on each side of the crop, as a fraction of the crop, for the registration image."""

FOREHEAD_HEIGHT = 1.1
"""How far above the brows the registration region reaches, in inter-ocular distances."""

ECC_LEVELS = 2
ECC_ITERATIONS = 100
ECC_EPSILON = 1e-5
ECC_GAUSS_FILTER = 1


def padding(crop_size: int) -> int:
    """Pixels added on each side of a crop for its registration canvas: same scale and
    orientation as the crop, more of the head around the face."""
    return int(round(PAD_FRACTION * crop_size))


def shifted(transform: np.ndarray, offset: float) -> np.ndarray:
    """``transform`` followed by a shift of ``offset`` pixels along both axes."""
    moved = np.asarray(transform, dtype=np.float64).copy()
    moved[:, 2] += offset
    return moved


def _face_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vectors along the eye axis and up the face, and the inter-ocular distance."""
    first, second = eye_centres(points)
    distance = float(inter_ocular_distance(points))
    right = (second - first) / distance
    return right, np.array([right[1], -right[0]]), distance


UPPER_FACE = (0, 1, 2, 14, 15, 16, *range(17, 48))
"""Contour at eye level, brows, nose and eyes: the face above the mouth, which the jaw moves."""


def registration_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """uint8 mask (255 inside) of the upper face and forehead: the convex hull of the
    landmarks above the mouth and of the brows raised by ``FOREHEAD_HEIGHT``, in an image of
    ``shape``."""
    points = np.asarray(points, dtype=np.float64)
    _, up, distance = _face_axes(points)
    region = np.vstack([points[list(UPPER_FACE)], points[17:27] + FOREHEAD_HEIGHT * distance * up])
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(region).astype(np.int32)), 255)
    return mask


def landmark_registration(
    reference_points: np.ndarray, points: np.ndarray, motion: str = "euclidean"
) -> np.ndarray:
    """``W`` from the rigid landmarks: the least-squares rigid (``euclidean``: rotation and
    shift) or ``affine`` map taking the reference's points onto the frame's."""
    source = np.asarray(reference_points, dtype=np.float64)[list(RIGID_LANDMARKS)]
    target = np.asarray(points, dtype=np.float64)[list(RIGID_LANDMARKS)]
    if motion == "affine":
        design = np.hstack([source, np.ones((len(source), 1))])
        return np.linalg.lstsq(design, target, rcond=None)[0].T
    # Kabsch: the rotation that best aligns the centred point sets, then the shift.
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    covariance = (target - target_mean).T @ (source - source_mean)
    u, _, vt = np.linalg.svd(covariance)
    rotation = u @ np.diag([1.0, np.sign(np.linalg.det(u @ vt))]) @ vt
    return np.hstack([rotation, (target_mean - rotation @ source_mean)[:, None]])


def ecc_registration(
    reference: np.ndarray,
    image: np.ndarray,
    mask: np.ndarray,
    initial: np.ndarray | None = None,
    motion: str = "euclidean",
) -> np.ndarray | None:
    """``W`` refined by ECC from ``initial`` (identity when None), coarse to fine over
    ``ECC_LEVELS`` halvings; None when ECC does not converge at the finest level."""
    warp = np.eye(2, 3, dtype=np.float32) if initial is None else initial.astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON)
    for level in reversed(range(ECC_LEVELS)):
        scale = 0.5**level
        template, target, region = (
            _downscaled(reference, scale), _downscaled(image, scale), _downscaled(mask, scale)
        )
        scaled = warp.copy()
        scaled[:, 2] *= scale
        try:
            _, scaled = cv2.findTransformECC(
                template, target, scaled, MOTIONS[motion], criteria, region, ECC_GAUSS_FILTER
            )
        except cv2.error:
            if level == 0:
                return None
            continue  # too little texture at this scale: the finer level may still converge
        warp = scaled.copy()
        warp[:, 2] /= scale
    return warp.astype(np.float64)


def _downscaled(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, int(round(width * scale))), max(1, int(round(height * scale))))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def correct(transform: np.ndarray, registration: np.ndarray) -> np.ndarray:
    """``W^-1`` after ``transform``, as one matrix: the image -> output transform of a frame
    whose registration, in ``transform``'s output coordinates, is ``registration``."""
    inverse = cv2.invertAffineTransform(registration)
    return inverse[:, :2] @ transform + np.hstack([np.zeros((2, 2)), inverse[:, 2:]])


def stabilising_transforms(
    reference_image: np.ndarray,
    reference_points: np.ndarray,
    images: Sequence[np.ndarray],
    points: Sequence[np.ndarray],
    transform: np.ndarray,
    crop_size: int,
    method: str,
    motion: str = "euclidean",
) -> tuple[list[np.ndarray], list[bool]]:
    """Each frame's image -> crop transform after ``method`` removed its rigid motion from
    the clip ``transform``, and for each whether ECC failed and the landmark fit stands.

    ``points`` are each frame's 68 landmarks in image pixels (``reference_points`` those of
    the reference frame); each transform is applied to the original image once.
    """
    if method not in STABILISATIONS:
        raise ValueError(f"stabilisation must be one of {STABILISATIONS}, got {method!r}")
    if motion not in MOTIONS:
        raise ValueError(f"stabilisation motion must be one of {tuple(MOTIONS)}, got {motion!r}")
    if method == "none":
        return [np.asarray(transform, dtype=np.float64) for _ in images], [False] * len(images)
    pad = padding(crop_size)
    canvas_transform, canvas = shifted(transform, pad), crop_size + 2 * pad
    reference_canvas_points = transform_points(reference_points, canvas_transform)
    if method == "ecc":
        reference_canvas = warp_to_crop(reference_image, canvas_transform, canvas)
        mask = registration_mask(reference_canvas_points, (canvas, canvas))
    fallbacks, transforms = [], []
    for image, frame_points in zip(images, points, strict=True):
        registration = landmark_registration(
            reference_canvas_points, transform_points(frame_points, canvas_transform), motion
        )
        if method != "ecc":
            fallbacks.append(False)
        else:
            refined = ecc_registration(
                reference_canvas, warp_to_crop(image, canvas_transform, canvas), mask, registration,
                motion,
            )
            fallbacks.append(refined is None)
            registration = registration if refined is None else refined
        transforms.append(shifted(correct(canvas_transform, registration), -pad))
    return transforms, fallbacks
