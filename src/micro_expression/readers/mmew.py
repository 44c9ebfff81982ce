"""MMEW: ``Micro_Expression/<emotion>/<Filename>/<N>.jpg`` plus ``MMEW_Micro_Exp.xlsx``.

Clip folders sit in the folder of their emotion (not of their subject); frames count from 1
and the sheet's onset is always 1. 90 fps. Only the micro-expressions are read
(``Macro_Expression/`` is not).

Hand-written: no library reads MMEW's folders and coding sheet.
"""

from __future__ import annotations

import re
from pathlib import Path

from micro_expression.readers.images import inspect_frames, numbered_frames
from micro_expression.readers.records import SourceClip
from micro_expression.readers.sheets import find_sheet, frame_number, read_sheet, text

SHEET = "MMEW_Micro_Exp.xlsx"
SHEET_PATTERN = "MMEW_Micro_Exp*.xlsx"
COLUMNS = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame",
           "Estimated Emotion"]
FRAMES_FOLDER = "Micro_Expression"
FPS = 90.0
FRAME_PATTERN = re.compile(r"(\d+)\.jpe?g", re.IGNORECASE)


def subject_name(cell: object) -> str:
    """Sheet subject (``S01`` or ``1``) as ``S01``, the prefix of its clips' file names."""
    value = text(cell)
    digits = re.fullmatch(r"S?(\d+)", value, re.IGNORECASE)
    return f"S{int(digits.group(1)):02d}" if digits else value


def emotion_folder(frames_root: Path, emotion: str) -> Path:
    """``frames_root/<emotion>``, matched without case (``Others`` for ``others``)."""
    exact = frames_root / emotion
    if exact.is_dir() or not frames_root.is_dir():
        return exact
    return next((p for p in sorted(frames_root.iterdir())
                 if p.is_dir() and p.name.lower() == emotion.lower()), exact)


def folder_hint(folder: Path, shown: int = 8) -> str:
    """What is on disk where ``<frames root>/<emotion>/<Filename>`` was expected."""
    parent = folder.parent if folder.parent.is_dir() else folder.parent.parent
    level = "clip folders in" if parent == folder.parent else "emotion folders in"
    names = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
    if not names:
        return f"{parent} holds no folders"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{level} {parent}: {', '.join(names[:shown])}{more}"


def read_mmew(root: Path, dataset: str = "mmew") -> list[SourceClip]:
    """Every row of the MMEW micro-expression sheet as a clip; the sheet may sit in ``root``
    or in ``root/Micro_Expression``, the emotion folders in the latter or in ``root``."""
    frames_root = root / FRAMES_FOLDER if (root / FRAMES_FOLDER).is_dir() else root
    sheet = find_sheet(list(dict.fromkeys([root, frames_root])), SHEET, SHEET_PATTERN)
    rows = read_sheet(sheet, COLUMNS)
    if not rows:
        raise ValueError(f"Empty dataset: {sheet} has no clip rows below its header")
    listed = []
    for row in rows:
        emotion = text(row.cells["Estimated Emotion"])
        filename = text(row.cells["Filename"]) or f"row{row.number}"
        folder = emotion_folder(frames_root, emotion or f"row{row.number}") / filename
        found = folder.is_dir()
        files = numbered_frames(folder, FRAME_PATTERN) if found else []
        listed.append((row, emotion, filename, folder, found, files))
    inspected = inspect_frames((f for *_, files in listed for f in files), desc=dataset)
    return [
        SourceClip(
            dataset=dataset,
            subject=f"{dataset}/{subject_name(row.cells['Subject'])}",
            clip_id=f"{dataset}/{subject_name(row.cells['Subject'])}/{filename}",
            source=f"{sheet} row {row.number}",
            folder=str(folder) if found else None,
            onset=frame_number(row.cells["OnsetFrame"]),
            apex=frame_number(row.cells["ApexFrame"]),
            offset=frame_number(row.cells["OffsetFrame"]),
            emotion=emotion,
            fps=FPS,
            frames=tuple(inspected[path] for _, path in files),
            expected_folder=str(folder),
            folder_hint="" if found else folder_hint(folder),
            apex_cell=text(row.cells["ApexFrame"]),
        )
        for row, emotion, filename, folder, found, files in listed
    ]
