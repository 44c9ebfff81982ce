"""Temporal sampling: which frames of a clip (indices into its onset..offset frames) to keep."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class ClipTooShortError(ValueError):
    """The clip has fewer frames than one sample needs."""


def even_sample(n_frames: int, length: int = 8) -> np.ndarray:
    """One sample of ``length`` indices spread evenly over first..last frame: (1, length)."""
    if n_frames < length:
        raise ClipTooShortError(f"{n_frames} frames, need at least {length}")
    return np.round(np.linspace(0, n_frames - 1, length)).astype(np.int64)[None, :]


def strided_samples(n_frames: int, length: int = 8, stride: int | None = None) -> np.ndarray:
    """The public MOL code's scheme: sample j takes frames j, j+stride, ..., j+(length-1)*stride.

    One sample per offset j < stride that fits in the clip; ``stride`` defaults to
    ``n_frames // length`` as in that code. Shape (S, length).
    """
    if n_frames < length:
        raise ClipTooShortError(f"{n_frames} frames, need at least {length}")
    stride = stride or n_frames // length
    offsets = [j for j in range(stride) if j + (length - 1) * stride < n_frames]
    if not offsets:
        raise ClipTooShortError(
            f"{n_frames} frames, need at least {(length - 1) * stride + 1} for stride {stride}"
        )
    return np.array([[j + i * stride for i in range(length)] for j in offsets], dtype=np.int64)


def sample_indices(
    n_frames: int, scheme: str, length: int = 8, stride: int | None = None
) -> np.ndarray:
    """(S, length) frame indices for ``scheme`` ``even`` or ``strided``."""
    if scheme == "even":
        return even_sample(n_frames, length)
    if scheme == "strided":
        return strided_samples(n_frames, length, stride)
    raise ValueError(f"unknown sampling scheme {scheme!r}")


_TRAILING_NUMBER = re.compile(r"(\d+)$")


def frame_numbers(frame_paths: Sequence[str | Path]) -> np.ndarray:
    """Original frame numbers from the file names' trailing digits (img46.jpg -> 46,
    006_05562.jpg -> 5562); the position in the clip when any name has none."""
    numbers = [_TRAILING_NUMBER.search(Path(path).stem) for path in frame_paths]
    if all(numbers):
        return np.array([int(match.group(1)) for match in numbers], dtype=np.int64)
    return np.arange(len(frame_paths), dtype=np.int64)
