"""Shared reading of the sheet-coded datasets (CASME II, SAMM): one clip per sheet row."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from micro_expression.readers.images import inspect_frames, numbered_frames
from micro_expression.readers.records import SourceClip
from micro_expression.readers.sheets import frame_number, read_sheet, text


@dataclass(frozen=True)
class SheetLayout:
    """How one dataset names its sheet columns, subject folders and frame files."""

    subject: str
    filename: str
    onset: str
    apex: str
    offset: str
    emotion: str
    subject_folder: Callable[[object], str]
    frame_pattern: re.Pattern[str]
    fps: float

    @property
    def columns(self) -> list[str]:
        return [self.subject, self.filename, self.onset, self.apex, self.offset, self.emotion]


def read_coded_clips(
    sheet: Path, frames_root: Path, layout: SheetLayout, dataset: str
) -> list[SourceClip]:
    """Each non-blank sheet row as a clip whose folder is ``frames_root/<subject>/<Filename>``
    (None when absent), with every frame file found there inspected."""
    rows = read_sheet(sheet, layout.columns)
    if not rows:
        raise ValueError(f"Empty dataset: {sheet} has no clip rows below its header")
    listed = []
    for row in rows:
        subject = layout.subject_folder(row.cells[layout.subject])
        filename = text(row.cells[layout.filename]) or f"row{row.number}"
        folder = frames_root / subject / filename
        found = folder.is_dir()
        files = numbered_frames(folder, layout.frame_pattern) if found else []
        listed.append((row, subject, filename, folder, found, files))
    inspected = inspect_frames((f for *_, files in listed for f in files), desc=dataset)
    return [
        SourceClip(
            dataset=dataset,
            subject=f"{dataset}/{subject}",
            clip_id=f"{dataset}/{subject}/{filename}",
            source=f"{sheet} row {row.number}",
            folder=str(folder) if found else None,
            onset=frame_number(row.cells[layout.onset]),
            apex=frame_number(row.cells[layout.apex]),
            offset=frame_number(row.cells[layout.offset]),
            emotion=text(row.cells[layout.emotion]),
            fps=layout.fps,
            frames=tuple(inspected[path] for _, path in files),
            expected_folder=str(folder),
            folder_hint="" if found else missing_folder_hint(folder),
            apex_cell=text(row.cells[layout.apex]),
        )
        for row, subject, filename, folder, found, files in listed
    ]


def missing_folder_hint(folder: Path, shown: int = 8) -> str:
    """What is on disk where ``folder`` (``<frames root>/<subject>/<clip>``) was expected:
    the subject folders present when the subject's is missing, else that subject's clips."""
    parent = folder.parent if folder.parent.is_dir() else folder.parent.parent
    level = "clip folders in" if parent == folder.parent else "subject folders in"
    names = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
    if not names:
        return f"{parent} holds no folders"
    listing = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown
                                         else "")
    return f"{level} {parent}: {listing}"
