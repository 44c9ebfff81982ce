"""Quality of the stored flow and landmarks against a clip's ground truth, where it has one.

Both are compared in crop pixels, two ways. ``flow_epe`` compares the TV-L1 flow with the
true motion between the two crops as they were built (head and face, after alignment and
stabilisation): how well TV-L1 measured what it was shown. ``expression_epe`` compares it
with the face's own motion alone (the action units, the head held still): how well the
target shows the expression, so rigid motion left in the crops counts as error, whether the
head moved (not stabilised) or re-alignment jitter moved the crop (``per_frame``). The rigid
motion left in the crops is also measured on its own (``rigid_residual_px``): how far each
sampled frame's crop is shifted against its sample's first crop by head motion, alignment
and stabilisation together. Errors are averaged over the face: the convex hull of the true
landmarks in the crop. The ground truth is the file the clip index names
(``ground_truth_path``, null without one).
"""

from __future__ import annotations

import cv2
import numpy as np

from micro_expression.face.alignment import (
    inter_ocular_distance,
    transform_points,
    transform_vectors,
)
from micro_expression.flow.error import end_point_error
from micro_expression.io.clip_cache import ClipArrays
from micro_expression.readers.ground_truth import ClipGroundTruth, load_ground_truth


def load_clip_truth(ground_truth_path: str | None) -> ClipGroundTruth | None:
    """The clip's ground truth, or None when it has none (a real dataset)."""
    return None if ground_truth_path is None else load_ground_truth(ground_truth_path)


def truth_indices(truth: ClipGroundTruth, frame_numbers: np.ndarray) -> np.ndarray:
    """Positions in ``truth`` of the given original frame numbers (same shape)."""
    position = {int(number): t for t, number in enumerate(truth.frame_numbers)}
    missing = sorted({int(n) for n in np.ravel(frame_numbers)} - set(position))
    if missing:
        raise ValueError(f"ground truth has no frames {missing[:5]} (has {len(position)} frames)")
    return np.vectorize(position.__getitem__, otypes=[np.int64])(frame_numbers)


def true_flow_at(
    truth: ClipGroundTruth,
    first: int,
    second: int,
    transform: np.ndarray,
    points: np.ndarray,
    second_transform: np.ndarray | None = None,
) -> np.ndarray:
    """True forward flow from the crop of truth frame ``first`` (its crop ``transform``) to
    that of ``second`` (``second_transform``, the same when None) at (N, 2) crop ``points``,
    in crop pixels: where the skin under each point is in the second crop.

    Evaluated through the motion model at those points only: a dense 640x480
    ``truth.flow_between`` per pair would cost more than the TV-L1 flow itself.
    """
    second_transform = transform if second_transform is None else second_transform
    image_points = transform_points(points, cv2.invertAffineTransform(transform))
    moved = truth.motion.forward(truth.motion.backward(image_points, first), second)
    return (transform_points(moved, second_transform) - points).astype(np.float32)


def expression_flow_at(
    truth: ClipGroundTruth, first: int, second: int, transform: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """The face's own motion from truth frame ``first`` to ``second`` at (N, 2) crop
    ``points`` of ``first`` (its crop ``transform``), in crop pixels: where the skin under
    each point would go if the head stayed as it is in ``first``."""
    motion = truth.motion
    held = motion.without_head_motion()
    image_points = transform_points(points, cv2.invertAffineTransform(transform))
    still = motion.head_to_onset(image_points, first)
    moved = held.forward(held.backward(still, first), second)
    # Back into the first frame's geometry: through its head pose, then its crop transform.
    displacement = motion.onset_to_head(moved, first) - motion.onset_to_head(still, first)
    return transform_vectors(displacement, transform).astype(np.float32)


def rigid_residual_at(
    truth: ClipGroundTruth,
    reference: int,
    frame: int,
    reference_transform: np.ndarray,
    transform: np.ndarray,
    points: np.ndarray,
) -> np.ndarray:
    """(N,) crop pixels by which the head's rigid motion, after alignment and stabilisation,
    still shifts (N, 2) crop ``points`` of truth ``frame`` against the ``reference`` crop."""
    motion = truth.motion
    image_points = transform_points(points, cv2.invertAffineTransform(transform))
    in_reference = motion.onset_to_head(motion.head_to_onset(image_points, frame), reference)
    shift = transform_points(in_reference, reference_transform) - points
    return np.linalg.norm(shift, axis=1)


def true_crop_flow(
    truth: ClipGroundTruth,
    first: int,
    second: int,
    transform: np.ndarray,
    crop_size: int,
    second_transform: np.ndarray | None = None,
) -> np.ndarray:
    """The dense (C, C, 2) version of :func:`true_flow_at`, over every crop pixel."""
    rows, cols = np.mgrid[0:crop_size, 0:crop_size]
    points = np.stack([cols.ravel(), rows.ravel()], axis=1).astype(np.float64)
    flow = true_flow_at(truth, first, second, transform, points, second_transform)
    return flow.reshape(crop_size, crop_size, 2)


def face_mask(landmarks: np.ndarray, crop_size: int) -> np.ndarray:
    """Boolean (C, C) mask of the convex hull of (68, 2) crop landmarks."""
    mask = np.zeros((crop_size, crop_size), dtype=np.uint8)
    hull = cv2.convexHull(np.round(landmarks).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(bool)


def clip_quality(
    ground_truth_path: str | None, arrays: ClipArrays, step: int = 2
) -> dict[str, float] | None:
    """Flow end-point error and landmark error of one clip; None without ground truth.

    ``flow_epe``: mean over pairs of the mean EPE (crop px) on the face, sampled on every
    ``step``-th crop pixel in each direction; ``flow_epe_zero``: the same for a zero flow
    (the size of the true motion, a baseline); ``expression_epe`` and ``_zero``: the same
    against the face's own motion alone; ``rigid_residual_px``: mean over the frames
    after each sample's first of the mean rigid shift on the face against that first crop
    (``_worst_frame``: the largest); ``landmark_nme``: mean point distance over the
    inter-ocular distance, over all sampled frames.
    """
    truth = load_clip_truth(ground_truth_path)
    if truth is None:
        return None
    crop_size = arrays.frames.shape[-1]
    indices = truth_indices(truth, arrays.frame_numbers)
    grid = np.zeros((crop_size, crop_size), dtype=bool)
    grid[::step, ::step] = True
    errors: dict[str, list[float]] = {name: [] for name in (
        "flow", "zero", "expression", "expression_zero", "residual", "landmark"
    )}
    for s, sample in enumerate(indices):
        transforms = arrays.transform[s]
        true_points = np.stack(
            [transform_points(truth.landmarks[t], transforms[k]) for k, t in enumerate(sample)]
        )

        def face_points(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            rows, cols = np.nonzero(face_mask(true_points[k], crop_size) & grid)
            if len(rows) == 0:
                raise ValueError(f"{ground_truth_path}: the true face lies outside the crop")
            return rows, cols, np.stack([cols, rows], axis=1).astype(np.float64)

        for k in range(len(sample) - 1):
            rows, cols, points = face_points(k)
            estimate = arrays.flows[s, k][rows, cols].astype(np.float32)
            true_flow = true_flow_at(
                truth, sample[k], sample[k + 1], transforms[k], points, transforms[k + 1]
            )
            expression = expression_flow_at(truth, sample[k], sample[k + 1], transforms[k], points)
            errors["flow"].append(end_point_error(estimate, true_flow))
            errors["zero"].append(end_point_error(np.zeros_like(true_flow), true_flow))
            errors["expression"].append(end_point_error(estimate, expression))
            errors["expression_zero"].append(end_point_error(np.zeros_like(expression), expression))
            _, _, later = face_points(k + 1)
            errors["residual"].append(float(rigid_residual_at(
                truth, sample[0], sample[k + 1], transforms[0], transforms[k + 1], later
            ).mean()))
        distances = np.linalg.norm(arrays.landmarks[s] - true_points, axis=-1)
        errors["landmark"].extend(distances.mean(axis=-1) / inter_ocular_distance(true_points))
    return {
        "flow_epe": float(np.mean(errors["flow"])),
        "flow_epe_worst_pair": float(np.max(errors["flow"])),
        "flow_epe_zero": float(np.mean(errors["zero"])),
        "expression_epe": float(np.mean(errors["expression"])),
        "expression_epe_zero": float(np.mean(errors["expression_zero"])),
        "rigid_residual_px": float(np.mean(errors["residual"])),
        "rigid_residual_px_worst_frame": float(np.max(errors["residual"])),
        "landmark_nme": float(np.mean(errors["landmark"])),
    }


def true_sample_flows(
    ground_truth_path: str | None, arrays: ClipArrays, sample: int = 0
) -> np.ndarray | None:
    """True crop flows (L-1, C, C, 2) between the consecutive frames of one sample, or None."""
    truth = load_clip_truth(ground_truth_path)
    if truth is None:
        return None
    crop_size = arrays.frames.shape[-1]
    indices = truth_indices(truth, arrays.frame_numbers[sample])
    transforms = arrays.transform[sample]
    return np.stack(
        [
            true_crop_flow(
                truth, indices[k], indices[k + 1], transforms[k], crop_size, transforms[k + 1]
            )
            for k in range(len(indices) - 1)
        ]
    )
