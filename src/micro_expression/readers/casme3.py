"""CAS(ME)^3 Part A: ``<Subject>/<Filename>/color/<frame>.jpg`` plus the ME label sheet.

``Subject`` is ``spNO.<n>``; ``Filename`` is a video letter (``a`` to ``m``), and one video
holds several micro-expressions, so a clip is named by its letter and onset frame:
``casme3/spNO.1/a_123``. Frame numbers are not zero-padded and count from the start of the
video (whose first frames are often missing: a clip reaching into them is rejected as
missing frames). 30 fps. Colour frames only; the ``depth/`` PNGs are not read.

The release's lists of damaged and poor-quality frames, when present beside the sheet or in
``root``, are honoured: a damaged frame makes it unusable (its clip is rejected naming the
frame and the list), a poor-quality frame keeps its clip and is logged as a warning.

Hand-written: no library reads CAS(ME)^3's folders, frame naming and label sheet.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from pathlib import Path

from micro_expression.readers.coded import (
    SheetLayout,
    folder_any_case,
    missing_folder_hint,
    numbered_name,
    read_coded_clips,
)
from micro_expression.readers.records import FrameFile, SourceClip
from micro_expression.readers.sheets import SheetRow, find_sheet, frame_number

logger = logging.getLogger(__name__)

SHEET = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
SHEET_PATTERN = "cas(me)3_part_A_ME_label*.xlsx"
DAMAGED_LIST = "error_info_damaged_image_partA.txt"
POOR_QUALITY_LIST = "image_with_bad_quality_partA.txt"
COLOUR_FOLDER = "color"
PART_A_FOLDER = "part_A"
# A listed frame: subject, video letter, frame number, as a path (``spNO.1/a/color/123.jpg``,
# either slash) or separated by spaces, commas or underscores.
LISTED_FRAME = re.compile(
    r"(spNO\.\d+)[\\/\s,_]+([A-Za-z])[\\/\s,_]+(?:colou?r[\\/\s,_]+)?(\d+)(?:\.jpe?g)?\b",
    re.IGNORECASE,
)

FrameKey = tuple[str, str, int]
"""(subject folder, video letter in lower case, frame number)."""


def subject_folder(cell: object) -> str:
    """Sheet subject (``spNO.1`` or ``1``) as its folder name ``spNO.1``."""
    return numbered_name(cell, "spNO.", 1)


def colour_folder(frames_root: Path, row: SheetRow, subject: str, letter: str) -> Path:
    """``<subject>/<letter>/color``: the colour frames of the video, shared by its clips."""
    return folder_any_case(frames_root / subject, letter) / COLOUR_FOLDER


def frame_list(path: Path) -> dict[FrameKey, str]:
    """The frames a release list names, each with where (``<file> line <n>``); a line that
    names no frame is an error, since a list misread would let damaged frames through."""
    listed = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        match = LISTED_FRAME.search(line)
        if match is None:
            raise ValueError(
                f"{path} line {number}: {line.strip()!r} names no frame; expected "
                "<Subject>/<Filename>/color/<frame>.jpg or '<Subject> <Filename> <frame>'"
            )
        subject, letter, frame = match.groups()
        listed[(subject_folder(subject), letter.lower(), int(frame))] = f"{path} line {number}"
    return listed


def release_list(folders: list[Path], name: str) -> dict[FrameKey, str]:
    """The frames of list ``name`` in the first of ``folders`` holding it; none when absent."""
    found = next((f / name for f in folders if (f / name).is_file()), None)
    return frame_list(found) if found else {}


def clip_name(row: SheetRow, letter: str) -> str:
    """``<letter>_<onset>``: the onset tells apart the clips of one video."""
    onset = frame_number(row.cells["Onset"])
    return f"{letter.lower()}_{onset if onset is not None else f'row{row.number}'}"


def colour_hint(folder: Path) -> str:
    """What is on disk where the ``color/`` folder of a video was expected."""
    video = folder.parent
    if not video.is_dir():
        return missing_folder_hint(video)
    present = sorted(p.name for p in video.iterdir())
    return f"{video} has no {COLOUR_FOLDER}/ folder; it holds: {', '.join(present) or 'nothing'}"


def mark_damaged(frame: FrameFile, where: str | None) -> FrameFile:
    """The frame made unusable when a damaged-frame list names it."""
    if where is None or frame.error:
        return frame
    return dataclasses.replace(frame, error=f"listed as damaged in {where}")


def log_poor_quality(clip: SourceClip, key: tuple[str, str], poor: dict[FrameKey, str]) -> None:
    """Warn of the clip's onset..offset frames that the poor-quality list names."""
    if clip.onset is None or clip.offset is None:
        return
    named = sorted((n, where) for (s, v, n), where in poor.items()
                   if (s, v) == key and clip.onset <= n <= clip.offset)
    if named:
        listing = ", ".join(f"{n} ({where})" for n, where in named)
        logger.warning("%s: kept with frames listed as poor quality: %s", clip.clip_id, listing)


def apply_frame_lists(damaged: dict[FrameKey, str], poor: dict[FrameKey, str],
                      clip: SourceClip, subject: str, letter: str) -> SourceClip:
    """The clip with its listed damaged frames made unusable; its poor-quality ones logged."""
    key = (subject, letter.lower())
    frames = tuple(mark_damaged(f, damaged.get((*key, f.number))) for f in clip.frames)
    clip = dataclasses.replace(clip, frames=frames)
    log_poor_quality(clip, key, poor)
    return clip


LAYOUT = SheetLayout(
    onset="Onset",
    apex="Apex",
    offset="Offset",
    emotion="emotion",
    subject_name=subject_folder,
    frame_pattern=re.compile(r"(\d+)\.jpe?g", re.IGNORECASE),
    fps=30.0,
    clip_folder=colour_folder,
    clip_name=clip_name,
    folder_hint=colour_hint,
)


def read_casme3(root: Path, dataset: str = "casme3") -> list[SourceClip]:
    """Every row of the Part A ME sheet (in ``root`` or ``root/annotation``) as a clip whose
    frames are ``root[/part_A]/<Subject>/<Filename>/color/<frame>.jpg``."""
    sheet = find_sheet([root, root / "annotation"], SHEET, SHEET_PATTERN)
    frames_root = root / PART_A_FOLDER if (root / PART_A_FOLDER).is_dir() else root
    list_folders = list(dict.fromkeys([sheet.parent, root, frames_root]))
    damaged = release_list(list_folders, DAMAGED_LIST)
    poor = release_list(list_folders, POOR_QUALITY_LIST)
    return read_coded_clips(sheet, frames_root, LAYOUT, dataset,
                            functools.partial(apply_frame_lists, damaged, poor))
