"""End-point error between an estimated and a true flow field."""

from __future__ import annotations

import numpy as np


def end_point_error_map(estimate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance between two (..., H, W, 2) flows."""
    if estimate.shape != truth.shape:
        raise ValueError(f"flow shapes differ: {estimate.shape} vs {truth.shape}")
    difference = np.asarray(estimate, np.float64) - np.asarray(truth, np.float64)
    return np.hypot(difference[..., 0], difference[..., 1])


def end_point_error(
    estimate: np.ndarray, truth: np.ndarray, mask: np.ndarray | None = None
) -> float:
    """Mean end-point error in pixels, over ``mask`` (boolean, (..., H, W)) when given."""
    errors = end_point_error_map(estimate, truth)
    if mask is None:
        return float(errors.mean())
    mask = np.broadcast_to(mask, errors.shape)
    if not mask.any():
        raise ValueError("end-point error mask selects no pixel")
    return float(errors[mask].mean())
