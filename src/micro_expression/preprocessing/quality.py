"""Quality of the stored flow and landmarks against a clip's ground truth, where it has one.

Both are compared in crop pixels. The true flow between two sampled frames is the true
image motion mapped through the first frame's transform, so with ``per_frame`` alignment the
apparent motion that re-alignment jitter adds to the TV-L1 flow counts as error. Errors are
averaged over the face: the convex hull of the true landmarks in the first frame's crop.
The ground truth is the file the clip index names (``ground_truth_path``, null without one).
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
    truth: ClipGroundTruth, first: int, second: int, transform: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """True forward flow from truth frame ``first`` to ``second`` at (N, 2) crop ``points``,
    in crop pixels: the image motion under each point, rotated and scaled into the crop.

    Evaluated through the motion model at those points only: a dense 640x480
    ``truth.flow_between`` per pair would cost more than the TV-L1 flow itself.
    """
    image_points = transform_points(points, cv2.invertAffineTransform(transform))
    moved = truth.motion.forward(truth.motion.backward(image_points, first), second)
    return transform_vectors(moved - image_points, transform).astype(np.float32)


def true_crop_flow(
    truth: ClipGroundTruth, first: int, second: int, transform: np.ndarray, crop_size: int
) -> np.ndarray:
    """The dense (C, C, 2) version of :func:`true_flow_at`, over every crop pixel."""
    rows, cols = np.mgrid[0:crop_size, 0:crop_size]
    points = np.stack([cols.ravel(), rows.ravel()], axis=1).astype(np.float64)
    flow = true_flow_at(truth, first, second, transform, points)
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
    (the size of the true motion, a baseline); ``landmark_nme``: mean point distance over
    the inter-ocular distance, over all sampled frames.
    """
    truth = load_clip_truth(ground_truth_path)
    if truth is None:
        return None
    crop_size = arrays.frames.shape[-1]
    indices = truth_indices(truth, arrays.frame_numbers)
    flow_errors, zero_errors, landmark_errors = [], [], []
    for s, sample in enumerate(indices):
        transforms = arrays.transform[s]
        true_points = np.stack(
            [transform_points(truth.landmarks[t], transforms[k]) for k, t in enumerate(sample)]
        )
        for k in range(len(sample) - 1):
            grid = np.zeros((crop_size, crop_size), dtype=bool)
            grid[::step, ::step] = True
            rows, cols = np.nonzero(face_mask(true_points[k], crop_size) & grid)
            if len(rows) == 0:
                raise ValueError(f"{ground_truth_path}: the true face lies outside the crop")
            points = np.stack([cols, rows], axis=1).astype(np.float64)
            true_flow = true_flow_at(truth, sample[k], sample[k + 1], transforms[k], points)
            estimate = arrays.flows[s, k][rows, cols].astype(np.float32)
            flow_errors.append(end_point_error(estimate, true_flow))
            zero_errors.append(end_point_error(np.zeros_like(true_flow), true_flow))
        distances = np.linalg.norm(arrays.landmarks[s] - true_points, axis=-1)
        landmark_errors.extend(distances.mean(axis=-1) / inter_ocular_distance(true_points))
    return {
        "flow_epe": float(np.mean(flow_errors)),
        "flow_epe_worst_pair": float(np.max(flow_errors)),
        "flow_epe_zero": float(np.mean(zero_errors)),
        "landmark_nme": float(np.mean(landmark_errors)),
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
            true_crop_flow(truth, indices[k], indices[k + 1], transforms[k], crop_size)
            for k in range(len(indices) - 1)
        ]
    )
