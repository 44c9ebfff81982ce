"""Sliding windows over recordings longer than a micro-expression, planned up front for frame
files or scheduled frame by frame while a video is decoded."""

from __future__ import annotations

import math
from dataclasses import dataclass

Window = tuple[int, int]
"""(first, last) frame indices of a window, both included."""


@dataclass(frozen=True)
class WindowSchedule:
    """A recording of more than ``whole_max`` frames is scored in windows of ``length``
    frames every ``stride`` frames, the last one ending on the last frame so that no frame is
    left unscored; a shorter one is scored whole.

    Built for streams, whose length is known only at their end: :meth:`ready` gives the
    windows whose frames have all arrived once frame ``index`` has, :meth:`at_end` the ones
    only the end decides (the whole recording, or the last window).
    """

    whole_max: float
    length: int
    stride: int

    def __post_init__(self) -> None:
        if self.length < 1 or self.stride < 1:
            raise ValueError(f"window length and stride must be >= 1, got {self.length} and "
                             f"{self.stride}")

    @classmethod
    def for_model(
        cls, longest_training_clip: int, long_factor: float, length: int | None,
        stride: int | None, typical_training_clip: float,
    ) -> WindowSchedule:
        """Windows for recordings longer than ``long_factor`` times the longest training
        clip: of ``length`` frames (default: the typical training clip) every ``stride``
        frames (default: half a window)."""
        length = length or max(1, round(typical_training_clip))
        return cls(long_factor * longest_training_clip, length,
                   stride or max(1, math.ceil(length / 2)))

    @property
    def known_long_at(self) -> int:
        """The first frame index whose arrival shows the recording is to be windowed."""
        return math.floor(self.whole_max)

    def ready(self, index: int) -> list[Window]:
        """Windows to score once frame ``index`` (0-based) has arrived."""
        if index < self.known_long_at:
            return []
        if index == self.known_long_at:
            ends = range(self.length - 1, index + 1, self.stride)
        else:
            ends = [index] if index >= self.length - 1 and (
                index - self.length + 1) % self.stride == 0 else []
        return [(end - self.length + 1, end) for end in ends]

    def at_end(self, n_frames: int) -> list[Window]:
        """Windows the end of a recording of ``n_frames`` frames adds."""
        if n_frames < 1:
            return []
        if n_frames - 1 < self.known_long_at:
            return [(0, n_frames - 1)]
        if n_frames <= self.length:
            return [] if n_frames == self.length else [(0, n_frames - 1)]
        last_start = (n_frames - self.length) // self.stride * self.stride
        if last_start + self.length < n_frames:
            return [(n_frames - self.length, n_frames - 1)]
        return []

    def plan(self, n_frames: int) -> list[Window]:
        """Every window of a recording of ``n_frames`` frames, in order."""
        ready = [w for index in range(self.known_long_at, n_frames) for w in self.ready(index)]
        return ready + self.at_end(n_frames)

    def frames_held(self, windows_in_flight: int) -> int:
        """Frames a stream must hold so that no frame a window may still read is dropped,
        with ``windows_in_flight`` windows being scored while the next frames arrive."""
        return max(self.known_long_at + 1, self.length + self.stride * windows_in_flight)


def window_plan(
    n_frames: int, longest_training_clip: int, long_factor: float, length: int | None,
    stride: int | None, typical_training_clip: float,
) -> list[Window]:
    """(first, last) frame indices to score: the whole recording when it is at most
    ``long_factor`` times the longest training clip, else windows of ``length`` frames
    (default: the typical training clip) every ``stride`` frames (default: half a window)."""
    schedule = WindowSchedule.for_model(
        longest_training_clip, long_factor, length, stride, typical_training_clip
    )
    return schedule.plan(n_frames)
