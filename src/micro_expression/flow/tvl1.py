"""OpenCV's dual TV-L1 optical flow, configured from a parameter mapping.

Flows are (H, W, 2) float32 arrays of (x, y) displacements in pixels, forward from the
first image to the second: the content at p in the first image is at p + flow[p] in the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

# Parameter name in conf -> OpenCV setter. OpenCV's own defaults are used for missing keys.
_SETTERS = {
    "tau": "setTau",
    "lambda": "setLambda",
    "theta": "setTheta",
    "nscales": "setScalesNumber",
    "warps": "setWarpingsNumber",
    "epsilon": "setEpsilon",
    "inner_iterations": "setInnerIterations",
    "outer_iterations": "setOuterIterations",
    "scale_step": "setScaleStep",
    "gamma": "setGamma",
    "median_filtering": "setMedianFiltering",
    "use_initial_flow": "setUseInitialFlow",
}


def create_tvl1(params: Mapping[str, Any] | None = None) -> cv2.optflow.DualTVL1OpticalFlow:
    """A TV-L1 estimator with the given parameters; raises on an unknown parameter name."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(_SETTERS))
    if unknown:
        raise ValueError(f"unknown TV-L1 parameters {unknown}; known: {sorted(_SETTERS)}")
    estimator = cv2.optflow.DualTVL1OpticalFlow_create()
    for name, value in params.items():
        getattr(estimator, _SETTERS[name])(value)
    return estimator


BRIGHTNESS_MATCHING = ("gain", "none")


def brightness_matched(frames: np.ndarray, matching: str = "gain") -> np.ndarray:
    """(T, H, W) uint8 frames as TV-L1 input: with ``gain``, float32 in about [0, 1], each
    frame scaled to the mean brightness of the first; with ``none``, unchanged.

    TV-L1 assumes constant brightness: a flicker of a few grey levels between frames outweighs
    the image change of a sub-pixel motion, and is read as motion.
    """
    if matching == "none":
        return frames
    if matching != "gain":
        raise ValueError(f"brightness matching must be one of {BRIGHTNESS_MATCHING}, "
                         f"got {matching!r}")
    images = frames.astype(np.float32) / 255.0
    means = images.mean(axis=(1, 2), keepdims=True)
    return images * (means[0] / np.maximum(means, 1e-6))


def tvl1_flow(
    estimator: cv2.optflow.DualTVL1OpticalFlow,
    first: np.ndarray,
    second: np.ndarray,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Forward flow from ``first`` to ``second`` (grayscale images of one size: uint8, or
    float32 in [0, 1]).

    ``initial`` seeds the estimate when the estimator was created with ``use_initial_flow``.
    """
    if first.shape != second.shape or first.ndim != 2:
        raise ValueError(
            f"need two grayscale images of one size, got {first.shape}, {second.shape}"
        )
    flow = None if initial is None else np.array(initial, dtype=np.float32, copy=True)
    return estimator.calc(first, second, flow)


def tvl1_sequence(
    estimator: cv2.optflow.DualTVL1OpticalFlow, frames: np.ndarray
) -> np.ndarray:
    """Flows between consecutive frames of (T, H, W) uint8 (or float32 in [0, 1]): a
    (T-1, H, W, 2) float32 array.

    With ``use_initial_flow`` set, each pair starts from the previous pair's flow.
    """
    seeded = bool(estimator.getUseInitialFlow())
    flows = np.empty((len(frames) - 1, *frames.shape[1:], 2), dtype=np.float32)
    previous = np.zeros((*frames.shape[1:], 2), dtype=np.float32)
    for index in range(len(frames) - 1):
        previous = tvl1_flow(
            estimator, frames[index], frames[index + 1], previous if seeded else None
        )
        flows[index] = previous
    return flows
