"""CASME II: ``CASME2_RAW_selected/subXX/EPxx_yy[f]/img<N>.jpg`` plus the coding sheet.

N is the original frame number, so a clip folder starts at ``img<Onset>.jpg``. The generated
corpus uses this layout too.

Hand-written: no library reads CASME II's folders, frame naming and coding sheet.
"""

from __future__ import annotations

import re
from pathlib import Path

from micro_expression.readers.coded import SheetLayout, numbered_name, read_coded_clips
from micro_expression.readers.records import SourceClip
from micro_expression.readers.sheets import find_sheet

SHEET = "CASME2-coding-20140508.xlsx"
SHEET_PATTERN = "CASME2-coding-*.xlsx"
FRAMES_FOLDER = "CASME2_RAW_selected"


def subject_folder(cell: object) -> str:
    """Sheet subject (``1``, ``"01"`` or ``"sub01"``) as its folder name ``sub01``."""
    return numbered_name(cell, "sub", 2)


LAYOUT = SheetLayout(
    subject_name=subject_folder,
    # ``reg_img`` is the naming of the cropped release (CASME2_Cropped).
    frame_pattern=re.compile(r"(?:reg_)?img(\d+)\.jpe?g", re.IGNORECASE),
    fps=200.0,
)


def read_casme2(root: Path, dataset: str = "casme2") -> list[SourceClip]:
    """Every row of the coding sheet in ``root`` as a clip of ``dataset``; frames are looked
    for under ``root/CASME2_RAW_selected/`` or, failing that, directly under ``root``."""
    sheet = find_sheet([root], SHEET, SHEET_PATTERN)
    frames_root = root / FRAMES_FOLDER if (root / FRAMES_FOLDER).is_dir() else root
    return read_coded_clips(sheet, frames_root, LAYOUT, dataset)
