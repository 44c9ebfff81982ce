"""The apex frame of a clip: from the coding sheet when it names one, else from the motion.

The flow baseline reads the optical flow from a sample's first (onset) frame to the apex.
CASME II and SAMM code the apex; SMIC does not, and a sheet cell may be empty or point outside
the clip. Then the apex is the sampled frame where the face has moved furthest from the
onset, measured on the accumulated consecutive flows with the rigid (median) head motion
removed. The label is never used.
"""

from __future__ import annotations

import numpy as np


def sheet_apex_index(frame_numbers: np.ndarray, apex: int | None) -> int | None:
    """Position in the clip of the sheet's apex frame number; None when the sheet has none,
    names a frame the clip does not hold, or names the first frame (no motion to measure)."""
    if apex is None:
        return None
    positions = np.flatnonzero(np.asarray(frame_numbers) == int(apex))
    if len(positions) == 0 or positions[0] == 0:
        return None
    return int(positions[0])


def flow_apex_index(flows: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Per sample, the clip position of the sampled frame furthest moved from the sample's first.

    ``flows`` (S, L-1, H, W, 2) consecutive flows of each sample's L frames, ``samples`` (S, L)
    their clip positions. The flows are summed from the first frame on, each sum's median
    vector (rigid head motion) removed, and the frame with the largest mean remaining
    magnitude chosen (never the first). Shape (S,) int64.
    """
    accumulated = np.cumsum(flows.astype(np.float32), axis=1)
    s, pairs = accumulated.shape[:2]
    vectors = accumulated.reshape(s, pairs, -1, 2)
    non_rigid = vectors - np.median(vectors, axis=2, keepdims=True)
    magnitude = np.linalg.norm(non_rigid, axis=-1).mean(axis=-1)  # (S, L-1): frames 1..L-1
    best = magnitude.argmax(axis=1) + 1
    return np.asarray(samples)[np.arange(s), best].astype(np.int64)
