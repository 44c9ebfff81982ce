"""4DME: ``gray_micro/<sub_ID>/<fold_name>/`` frames plus ``4DME_Labelling_Micro_release v1.xlsx``.

Each clip's folder holds its own frames, onset to offset, the frame number being the last
digits of each file name (the MEB toolkit checks that the first equals the sheet's Onset and
the last its Offset). A clip may be coded with several emotions, in one 0/1 column each
(Positive, Negative, Surprise, Repression, Others): its emotion is the ones set, in that
order, joined with ``+`` (``positive+surprise``). A class scheme gives such a clip a class
only when all of its emotions fall in that class (negative+repression is negative in the
3-class scheme; positive+surprise is left out, a recorded exclusion); the ``Emotion`` column
must be there but is not read. The frame rate is stated nowhere the reader could check, so
it is not set.

Facts from public code (MEB, tvaranka/meb), not from the release itself: the frame file
prefix and padding, and the worksheet name, are not known, so any name ending in digits and
an image extension is read, on whichever worksheet holds the header.

Hand-written: no library reads 4DME's folders and coding sheet.
"""

from __future__ import annotations

import re
from pathlib import Path

from micro_expression.readers.coded import SheetLayout, read_coded_clips
from micro_expression.readers.records import SourceClip
from micro_expression.readers.sheets import SheetRow, find_sheet, text

SHEET = "4DME_Labelling_Micro_release v1.xlsx"
SHEET_PATTERN = "4DME_Labelling_Micro*.xlsx"
FRAMES_FOLDER = "gray_micro"
EMOTION_COLUMNS = ("Positive", "Negative", "Surprise", "Repression", "Others")
"""The 0/1 columns of a clip's emotions, in the order its emotion names them."""


def coded_emotions(row: SheetRow) -> str:
    """The emotions whose column is 1, lower case, joined with ``+``; a cell other than 0, 1
    or blank is kept as ``<column>=<cell>``, which the validation reports as unknown."""
    emotions = []
    for column in EMOTION_COLUMNS:
        cell = text(row.cells[column])
        if cell in ("1", "1.0"):
            emotions.append(column.lower())
        elif cell not in ("", "0", "0.0"):
            emotions.append(f"{column}={cell}")
    return "+".join(emotions)


def subject_name(cell: object) -> str:
    """The sheet's sub_ID as written (its folder name)."""
    return text(cell)


LAYOUT = SheetLayout(
    subject_name=subject_name,
    frame_pattern=re.compile(r".*?(\d+)\.(?:jpe?g|png|bmp)", re.IGNORECASE),
    fps=None,
    subject="sub_ID",
    filename="fold_name",
    onset="Onset",
    apex="Apex",
    offset="Offset",
    emotion="Emotion",
    clip_emotion=coded_emotions,
    emotion_columns=EMOTION_COLUMNS,
)


def read_4dme(root: Path, dataset: str = "4dme") -> list[SourceClip]:
    """Every row of the 4DME micro-expression sheet as a clip; the sheet may sit in ``root``
    or in ``root/gray_micro``, the subject folders in the latter or in ``root``."""
    frames_root = root / FRAMES_FOLDER if (root / FRAMES_FOLDER).is_dir() else root
    sheet = find_sheet(list(dict.fromkeys([root, frames_root])), SHEET, SHEET_PATTERN)
    return read_coded_clips(sheet, frames_root, LAYOUT, dataset)
