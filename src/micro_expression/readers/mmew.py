"""MMEW: ``Micro_Expression/<emotion>/<Filename>/<N>.jpg`` plus ``MMEW_Micro_Exp.xlsx``.

Clip folders sit in the folder of their emotion (not of their subject); frames count from 1
and the sheet's onset is always 1. 90 fps. Only the micro-expressions are read
(``Macro_Expression/`` is not).

Hand-written: no library reads MMEW's folders and coding sheet.
"""

from __future__ import annotations

import re
from pathlib import Path

from micro_expression.readers.coded import (
    SheetLayout,
    folder_any_case,
    missing_folder_hint,
    numbered_name,
    read_coded_clips,
)
from micro_expression.readers.records import SourceClip
from micro_expression.readers.sheets import SheetRow, find_sheet, text

SHEET = "MMEW_Micro_Exp.xlsx"
SHEET_PATTERN = "MMEW_Micro_Exp*.xlsx"
FRAMES_FOLDER = "Micro_Expression"


def subject_name(cell: object) -> str:
    """Sheet subject (``S01`` or ``1``) as ``S01``, the prefix of its clips' file names."""
    return numbered_name(cell, "S", 2)


def emotion_clip_folder(frames_root: Path, row: SheetRow, subject: str, filename: str) -> Path:
    """``<emotion>/<Filename>``: MMEW files its clips by emotion, not by subject."""
    emotion = text(row.cells[LAYOUT.emotion]) or f"row{row.number}"
    return folder_any_case(frames_root, emotion) / filename


def folder_hint(folder: Path) -> str:
    """What is on disk where ``<frames root>/<emotion>/<Filename>`` was expected."""
    return missing_folder_hint(folder, grouping="emotion")


LAYOUT = SheetLayout(
    subject_name=subject_name,
    frame_pattern=re.compile(r"(\d+)\.jpe?g", re.IGNORECASE),
    fps=90.0,
    clip_folder=emotion_clip_folder,
    folder_hint=folder_hint,
)


def read_mmew(root: Path, dataset: str = "mmew") -> list[SourceClip]:
    """Every row of the MMEW micro-expression sheet as a clip; the sheet may sit in ``root``
    or in ``root/Micro_Expression``, the emotion folders in the latter or in ``root``."""
    frames_root = root / FRAMES_FOLDER if (root / FRAMES_FOLDER).is_dir() else root
    sheet = find_sheet(list(dict.fromkeys([root, frames_root])), SHEET, SHEET_PATTERN)
    return read_coded_clips(sheet, frames_root, LAYOUT, dataset)
