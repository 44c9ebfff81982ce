"""Sliding windows over recordings longer than a micro-expression."""

from __future__ import annotations

import math


def window_starts(n_frames: int, length: int, stride: int) -> list[int]:
    """First frame index of each window of ``length`` frames, every ``stride`` frames; the
    last window ends on the last frame, so no frame is left unscored."""
    if length < 1 or stride < 1:
        raise ValueError(f"window length and stride must be >= 1, got {length} and {stride}")
    if n_frames <= length:
        return [0]
    starts = list(range(0, n_frames - length + 1, stride))
    if starts[-1] + length < n_frames:
        starts.append(n_frames - length)
    return starts


def window_plan(
    n_frames: int, longest_training_clip: int, long_factor: float, length: int | None,
    stride: int | None, typical_training_clip: float,
) -> list[tuple[int, int]]:
    """(first, last) frame indices to score: the whole recording when it is at most
    ``long_factor`` times the longest training clip, else windows of ``length`` frames
    (default: the typical training clip) every ``stride`` frames (default: half a window)."""
    if n_frames <= long_factor * longest_training_clip:
        return [(0, n_frames - 1)]
    length = length or max(1, round(typical_training_clip))
    stride = stride or max(1, math.ceil(length / 2))
    return [(start, start + length - 1) for start in window_starts(n_frames, length, stride)]
