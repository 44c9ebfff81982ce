"""SAMM: ``SAMM/<subject>/<Filename>/<subject>_<frame 5 digits>.jpg`` (grayscale) plus the
coding sheet, whose header sits below a preamble (spreadsheet row 14 in v2).

The release unpacks to a ``SAMM/`` folder; ``root`` may hold it or be it.

Hand-written: no library reads SAMM's folders, frame naming and coding sheet.
"""

from __future__ import annotations

import re
from pathlib import Path

from micro_expression.readers.coded import SheetLayout, read_coded_clips
from micro_expression.readers.records import SourceClip
from micro_expression.readers.sheets import find_sheet, text

SHEET = "SAMM_Micro_FACS_Codes_v2.xlsx"
SHEET_PATTERN = "SAMM_Micro_FACS_Codes*.xlsx"
FRAMES_FOLDER = "SAMM"


def subject_folder(cell: object) -> str:
    """Sheet subject (``6`` or ``"006"``) as its folder name ``006``."""
    value = text(cell)
    return f"{int(value):03d}" if value.isdigit() else value


LAYOUT = SheetLayout(
    onset="Onset Frame",
    apex="Apex Frame",
    offset="Offset Frame",
    subject_name=subject_folder,
    frame_pattern=re.compile(r"\d+_(\d+)\.jpe?g", re.IGNORECASE),
    fps=200.0,
)


def read_samm(root: Path, dataset: str = "samm") -> list[SourceClip]:
    """Every row of the SAMM coding sheet as a clip; the sheet may sit in ``root`` or in its
    ``SAMM/`` folder, the frames under ``root/SAMM/`` or directly under ``root``."""
    frames_root = root / FRAMES_FOLDER if (root / FRAMES_FOLDER).is_dir() else root
    sheet = find_sheet(list(dict.fromkeys([root, frames_root])), SHEET, SHEET_PATTERN)
    return read_coded_clips(sheet, frames_root, LAYOUT, dataset)
