"""Colour coding of flow fields: hue is the direction, brightness the magnitude."""

from __future__ import annotations

import cv2
import numpy as np


def flow_to_colour(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB image of an (H, W, 2) flow; ``max_magnitude`` is full brightness.

    Pass one ``max_magnitude`` to several flows to compare them on the same scale.
    """
    flow = np.asarray(flow, dtype=np.float32)
    magnitude, angle = cv2.cartToPolar(flow[..., 0], flow[..., 1], angleInDegrees=True)
    if max_magnitude is None:
        max_magnitude = float(magnitude.max())
    hsv = np.empty((*flow.shape[:2], 3), dtype=np.uint8)
    hsv[..., 0] = (angle / 2).astype(np.uint8)  # OpenCV hue spans 0..179
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(255 * magnitude / max(max_magnitude, 1e-6), 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
