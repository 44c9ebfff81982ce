"""A clip's frames as preprocessing reads them, one at a time and only those it needs: image
files (:class:`~micro_expression.preprocessing.clip.FrameFiles`) or grey frames already
decoded (:class:`DecodedFrames`, a window of a video streamed in memory)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class ClipFrames(Protocol):
    """Frames ``0 .. len - 1`` of one clip (onset..offset), with their original numbers."""

    numbers: np.ndarray

    def __len__(self) -> int: ...

    def gray(self, index: int) -> np.ndarray:
        """Frame ``index`` as an 8-bit grey image; raises ``ClipRejected`` on bad input."""

    def name(self, index: int) -> str:
        """How an error names frame ``index`` (its file, or its video and number)."""


@dataclass(frozen=True)
class DecodedFrames:
    """Grey frames already in memory, read through ``read(index)`` (for instance from a ring
    buffer shared with the process that decodes the video)."""

    read: Callable[[int], np.ndarray]
    numbers: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.numbers)

    def gray(self, index: int) -> np.ndarray:
        return self.read(index)

    def name(self, index: int) -> str:
        return f"{self.source} frame {int(self.numbers[index])}"
