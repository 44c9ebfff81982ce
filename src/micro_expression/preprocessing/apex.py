"""The apex frame of a clip: from the coding sheet when it names one, else from the face.

The flow baseline reads the optical flow from a sample's first (onset) frame to the apex.
CASME II and SAMM code the apex; SMIC does not, new recordings are not coded at all, and a
sheet cell may be empty or point outside the clip. Then the apex is estimated from the face's
own motion: the sampled frame whose stabilised crop differs most from the onset's over the
face (jaw line to brows), the eyes left out so a blink is not taken for the apex, each frame
matched to the onset's brightness and the profile smoothed in time. The label is never used.
On the generated corpus (``python benchmarks/apex.py``, 72 clips) it finds the sampled frame
nearest the sheet's apex for 62 % of the clips and is within 2 sampled frames for 97 % (at
half the amplitude 49 % and 89 %); the frame of largest accumulated non-rigid flow, used
before, 57 % and 89 % (29 % and 64 %), and the midpoint of onset and offset 46 % and 100 %
(the generator draws every apex between 30 and 60 % of the clip).
"""

from __future__ import annotations

import cv2
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


EYES = (slice(36, 42), slice(42, 48))
"""The 68-point model's eye outlines, left out of the apex estimate (blinks)."""
FACE_OUTLINE = slice(0, 27)
"""Jaw line and brows: their convex hull is the face the estimate reads."""


def face_mask(points: np.ndarray, size: int) -> np.ndarray:
    """(C, C) bool: inside the hull of the jaw line and brows of ``points`` (68, 2) crop px,
    outside a disc of 0.9 eye widths around each eye."""
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[FACE_OUTLINE]).astype(np.int32)), 1)
    for eye in EYES:
        outline = points[eye]
        centre = np.round(outline.mean(axis=0)).astype(int)
        radius = int(round(0.9 * np.ptp(outline[:, 0])))
        cv2.circle(mask, (int(centre[0]), int(centre[1])), radius, 0, thickness=-1)
    return mask.astype(bool)


def motion_profile(frames: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(L,) how far each of a sample's frames (L, C, C) has changed from its first over the
    face of ``points`` (68, 2): mean absolute difference of the lightly blurred crops, each
    scaled to the first one's mean brightness there (a flicker is not a motion)."""
    mask = face_mask(points, frames.shape[-1])
    blurred = [cv2.GaussianBlur(f.astype(np.float32), (0, 0), 1.0) for f in frames]
    reference = blurred[0]
    level = reference[mask].mean()
    return np.array([
        np.abs(f * (level / max(f[mask].mean(), 1e-6)) - reference)[mask].mean() for f in blurred
    ])


def motion_apex_index(frames: np.ndarray, landmarks: np.ndarray, samples: np.ndarray
                      ) -> np.ndarray:
    """Per sample, the clip position of its frame that changed most from its first.

    ``frames`` (S, L, C, C) stabilised crops, ``landmarks`` (S, L, 68, 2) crop px (the first
    frame's set the face), ``samples`` (S, L) clip positions. The profile of
    :func:`motion_profile` is smoothed by a [1, 2, 1] / 4 kernel before the largest is
    chosen (never the first). Shape (S,) int64.
    """
    best = []
    for sample_frames, points in zip(frames, landmarks):
        profile = np.convolve(np.pad(motion_profile(sample_frames, points[0]), 1, mode="edge"),
                              [0.25, 0.5, 0.25], mode="valid")
        best.append(int(np.argmax(profile[1:])) + 1)
    return np.asarray(samples)[np.arange(len(best)), best].astype(np.int64)
