"""What a dataset reader reports about a dataset on disk, before any validation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FrameFile:
    """One image file of a clip folder; ``error`` says why it cannot be used, if it cannot."""

    path: str
    number: int
    sha256: str
    error: str | None = None


@dataclass(frozen=True)
class SourceClip:
    """One clip as its source describes it (a coding-sheet row, or for SMIC a clip folder).

    ``folder`` is None when the sheet row has no folder on disk; ``onset`` / ``apex`` /
    ``offset`` are None where the sheet cell is not a frame number. ``frames`` holds every
    frame file found in the folder, in numeric order.
    """

    dataset: str
    subject: str
    clip_id: str
    source: str
    folder: str | None
    onset: int | None
    apex: int | None
    offset: int | None
    emotion: str
    fps: float
    frames: tuple[FrameFile, ...] = ()


@dataclass(frozen=True)
class RawDataset:
    """Every clip a dataset (or the composite of several) describes, in source order.

    ``roots`` maps each source dataset to the absolute folder it was read from.
    """

    name: str
    roots: dict[str, str]
    clips: tuple[SourceClip, ...] = field(default_factory=tuple)
