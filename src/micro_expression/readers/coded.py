"""Shared reading of the sheet-coded datasets (CASME II, SAMM, CAS(ME)^3, MMEW, 4DME): one
clip per sheet row."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from micro_expression.readers.images import inspect_frames, numbered_frames
from micro_expression.readers.records import SourceClip
from micro_expression.readers.sheets import SheetRow, frame_number, read_sheet, text

ClipAmend = Callable[[SourceClip, str, str], SourceClip]
"""What a reader changes on each clip read, given the clip, its subject and its Filename
(CAS(ME)^3 marks the frames its release lists as damaged)."""


def numbered_name(cell: object, prefix: str, width: int) -> str:
    """A sheet subject (``<prefix><n>`` in any case, or just ``<n>``) as ``<prefix><n>`` with
    ``n`` zero-padded to ``width`` digits; other text is kept as it is."""
    value = text(cell)
    digits = re.fullmatch(rf"(?:{re.escape(prefix)})?(\d+)", value, re.IGNORECASE)
    return f"{prefix}{int(digits.group(1)):0{width}d}" if digits else value


def subject_clip_folder(frames_root: Path, row: SheetRow, subject: str, filename: str) -> Path:
    """``frames_root/<subject>/<Filename>``: where CASME II and SAMM keep a row's frames."""
    return frames_root / subject / filename


def filename_clip_name(row: SheetRow, filename: str) -> str:
    """The Filename cell: the clip name where each sheet row has a Filename of its own."""
    return filename


def missing_folder_hint(folder: Path, grouping: str = "subject", shown: int = 8) -> str:
    """What is on disk where ``folder`` (``<frames root>/<grouping>/<clip>``) was expected:
    the ``grouping`` folders present when the clip's is missing, else that folder's clips."""
    parent = folder.parent if folder.parent.is_dir() else folder.parent.parent
    level = "clip folders in" if parent == folder.parent else f"{grouping} folders in"
    names = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
    if not names:
        return f"{parent} holds no folders"
    listing = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown
                                         else "")
    return f"{level} {parent}: {listing}"


def folder_any_case(parent: Path, name: str) -> Path:
    """``parent/<name>``, matched without case when only another case exists (``J`` for a
    sheet's ``j``, ``Others`` for ``others``)."""
    exact = parent / name
    if exact.is_dir() or not parent.is_dir():
        return exact
    return next((p for p in sorted(parent.iterdir())
                 if p.is_dir() and p.name.lower() == name.lower()), exact)


@dataclass(frozen=True, kw_only=True)
class SheetLayout:
    """How one dataset names its sheet columns, subjects, clip folders, clips and frame files;
    the defaults are CASME II's columns (MMEW's too) and ``<subject>/<Filename>`` folders."""

    subject_name: Callable[[object], str]
    frame_pattern: re.Pattern[str]
    fps: float | None
    subject: str = "Subject"
    filename: str = "Filename"
    onset: str = "OnsetFrame"
    apex: str = "ApexFrame"
    offset: str = "OffsetFrame"
    emotion: str = "Estimated Emotion"
    clip_folder: Callable[[Path, SheetRow, str, str], Path] = subject_clip_folder
    clip_name: Callable[[SheetRow, str], str] = filename_clip_name
    folder_hint: Callable[[Path], str] = missing_folder_hint
    clip_emotion: Callable[[SheetRow], str] | None = None
    """The clip's emotion from its row, where it is not the ``emotion`` cell alone (4DME
    codes it in one column per emotion, named in ``emotion_columns``)."""
    emotion_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [self.subject, self.filename, self.onset, self.apex, self.offset, self.emotion,
                *self.emotion_columns]


def read_coded_clips(
    sheet: Path, frames_root: Path, layout: SheetLayout, dataset: str,
    amend: ClipAmend | None = None,
) -> list[SourceClip]:
    """Each non-blank sheet row as a clip in its ``layout.clip_folder`` (None when absent),
    with every frame file found there inspected, then ``amend``-ed when given."""
    rows = read_sheet(sheet, layout.columns)
    if not rows:
        raise ValueError(f"Empty dataset: {sheet} has no clip rows below its header")
    listed = []
    for row in rows:
        subject = layout.subject_name(row.cells[layout.subject])
        filename = text(row.cells[layout.filename]) or f"row{row.number}"
        folder = layout.clip_folder(frames_root, row, subject, filename)
        found = folder.is_dir()
        files = numbered_frames(folder, layout.frame_pattern) if found else []
        listed.append((row, subject, filename, folder, found, files))
    inspected = inspect_frames((f for *_, files in listed for f in files), desc=dataset)
    clips = []
    for row, subject, filename, folder, found, files in listed:
        clip = SourceClip(
            dataset=dataset,
            subject=f"{dataset}/{subject}",
            clip_id=f"{dataset}/{subject}/{layout.clip_name(row, filename)}",
            source=f"{sheet} row {row.number}",
            folder=str(folder) if found else None,
            onset=frame_number(row.cells[layout.onset]),
            apex=frame_number(row.cells[layout.apex]),
            offset=frame_number(row.cells[layout.offset]),
            emotion=layout.clip_emotion(row) if layout.clip_emotion
            else text(row.cells[layout.emotion]),
            fps=layout.fps,
            frames=tuple(inspected[path] for _, path in files),
            expected_folder=str(folder),
            folder_hint="" if found else layout.folder_hint(folder),
            apex_cell=text(row.cells[layout.apex]),
        )
        clips.append(amend(clip, subject, filename) if amend else clip)
    return clips
