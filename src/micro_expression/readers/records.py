"""What a dataset reader reports about a dataset on disk, before any validation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FrameFile:
    """One image file of a clip folder; ``error`` says why it cannot be used, if it cannot;
    ``width`` and ``height`` are its pixel size when it decodes (0 when it does not)."""

    path: str
    number: int
    sha256: str
    error: str | None = None
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class SourceClip:
    """One clip as its source describes it (a coding-sheet row, or for SMIC a clip folder).

    ``folder`` is None when the sheet row has no folder on disk; then ``expected_folder``
    says where it was looked for and ``folder_hint`` what was there instead. ``onset`` /
    ``apex`` / ``offset`` are None where the sheet cell is not a frame number; ``apex_cell``
    keeps the apex cell's text, so a rejected value can be reported. ``frames`` holds every
    frame file found in the folder, in numeric order (two files may claim one number).
    ``ground_truth`` is the clip's ground-truth file, where its corpus has one (generated).
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
    fps: float | None
    frames: tuple[FrameFile, ...] = ()
    expected_folder: str = ""
    folder_hint: str = ""
    apex_cell: str = ""
    ground_truth: str | None = None


@dataclass(frozen=True)
class RawDataset:
    """Every clip a dataset (or the composite of several) describes, in source order.

    ``roots`` maps each source dataset to the absolute folder it was read from; ``classes``
    is the class count its clips are to be labelled with (3 for every dataset; the others each
    dataset offers: :func:`~micro_expression.readers.labels.offered_classes`).
    """

    name: str
    roots: dict[str, str]
    clips: tuple[SourceClip, ...] = field(default_factory=tuple)
    classes: int = 3
