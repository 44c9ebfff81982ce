"""Writers of small dataset trees in the real on-disk layouts (real JPEGs, real .xlsx sheets).

Reusable by any test: ``write_casme2(tmp_path / "CASME2")`` gives a valid CASME II tree.
Each clip is a dict of sheet values (``sheet_clip``); ``frames`` (optional) lists the frame
numbers to write (default: onset..offset; ``[]`` leaves an empty folder) and ``folder: False``
writes the sheet row without any folder. ``image`` makes the picture of one frame (default:
noise), so tests that need a face can pass one. ``sheet_fields`` and ``rejection_reasons`` tell
what a reader made of the clips.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import openpyxl

from micro_expression.readers.labels import scheme_for
from micro_expression.readers.records import SourceClip
from micro_expression.readers.validation import triage

ImageMaker = Callable[[str, int], np.ndarray]

CASME2_SHEET = "CASME2-coding-20140508.xlsx"
CASME2_HEADER = [
    "Subject",
    "Filename",
    None,  # unnamed in the real sheet
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
]
SAMM_SHEET = "SAMM_Micro_FACS_Codes_v2.xlsx"
SAMM_HEADER = [
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset Frame",
    "Apex Frame",
    "Offset Frame",
    "Duration",
    "Micro",
    "Action Units",
    "Estimated Emotion",
    "Objective Classes",
    "Notes",
]
SAMM_HEADER_ROW = 14
SMIC_CODES = {"negative": "ne", "positive": "po", "surprise": "sur"}


def sheet_clip(subject: Any, filename: str, onset: Any, apex: Any, offset: Any,
               emotion: str) -> dict[str, Any]:
    """A clip dict of the sheet values every sheet-coded writer reads."""
    return {"subject": subject, "filename": filename, "onset": onset, "apex": apex,
            "offset": offset, "emotion": emotion}


CASME2_CLIPS: list[dict[str, Any]] = [
    # img9..img12: numeric order differs from name order
    sheet_clip(1, "EP02_01f", 9, 10, 12, "happiness"),
    sheet_clip(1, "EP03_02", 20, "/", 23, "surprise"),
    sheet_clip(2, "EP01_11f", 5, 6, 8, "disgust"),
    sheet_clip(2, "EP19_05f", 30, 31, 33, "repression"),
    sheet_clip(3, "EP07_01", 3, 4, 6, "others"),
]
SAMM_CLIPS: list[dict[str, Any]] = [
    sheet_clip(6, "006_1_2", 5562, 5563, 5565, "Anger"),
    sheet_clip(6, "006_1_3", 100, 101, 103, "Happiness"),
    sheet_clip(7, "007_3_1", 40, 41, 43, "Contempt"),
    sheet_clip(7, "007_5_2", 8, 9, 11, "Surprise"),
    sheet_clip(7, "007_6_1", 60, 61, 63, "Other"),
]
SMIC_CLIPS: list[dict[str, Any]] = [
    {"subject": 1, "emotion": "negative", "index": 1, "first": 1200, "n_frames": 4},
    {"subject": 1, "emotion": "surprise", "index": 2, "first": 300, "n_frames": 3},
    {"subject": 2, "emotion": "positive", "index": 1, "first": 98, "n_frames": 5},
]


def rejection_reasons(clips: Sequence[SourceClip], classes: int = 3) -> dict[str, str]:
    """Why triage rejects each of ``clips`` (of one dataset) under its ``classes``-class
    scheme, by clip id."""
    _, rejections = triage(tuple(clips), scheme_for(clips[0].dataset, classes))
    return {r.clip_id: r.reason for r in rejections}


def sheet_fields(clip: SourceClip) -> dict[str, Any]:
    """What a reader made of a clip's sheet row: subject, row, folder, frame numbers, fps."""
    names = ("subject", "source", "folder", "onset", "apex", "offset", "fps")
    return {name: getattr(clip, name) for name in names}


def noise_image(key: str, number: int, size: int = 64) -> np.ndarray:
    """A deterministic colour noise picture for frame ``number`` of clip ``key``."""
    rng = np.random.default_rng(zlib.crc32(f"{key}/{number}".encode()))
    return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A decompression bomb: a real 8x8 JPEG (a few hundred bytes) whose frame header (SOF0)
    is rewritten to declare ``width`` x ``height``."""
    ok, encoded = cv2.imencode(".jpg", np.full((8, 8), 128, np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    sof = data.index(b"\xff\xc0")  # marker, length (2), precision (1), height (2), width (2)
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def write_jpeg(path: Path, image: np.ndarray, grayscale: bool = False) -> Path:
    """Write ``image`` (BGR or gray) as a real JPEG; raises if OpenCV cannot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if grayscale and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"cv2.imwrite failed for {path}")
    return path


def truncate_file(path: Path) -> Path:
    """Keep the first half of the file's bytes (a truncated JPEG)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def write_garbage(path: Path) -> Path:
    """A file that is not an image at all, under an image name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a JPEG\n" * 20)
    return path


def write_sheet(path: Path, header: Sequence[str | None], rows: list[list[Any]],
                preamble: Sequence[Sequence[Any]] = (), header_row: int = 1,
                title: str | None = None) -> Path:
    """An .xlsx whose header sits on spreadsheet row ``header_row`` below ``preamble``, on a
    worksheet named ``title`` (openpyxl's default name when None)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.title = title
    for r, values in enumerate(preamble, start=1):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    for r, values in enumerate([list(header), *rows], start=header_row):
        for c, value in enumerate(values, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _frame_numbers(clip: dict[str, Any], folder: Path) -> list[int]:
    if not clip.get("folder", True):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    if "frames" in clip:
        return list(clip["frames"])
    return list(range(clip["onset"], clip["offset"] + 1))


def write_casme2(root: Path, clips: list[dict[str, Any]] | None = None,
                 sheet_name: str = CASME2_SHEET, frames_folder: str | None = "CASME2_RAW_selected",
                 image: ImageMaker = noise_image) -> Path:
    """A CASME II tree: ``root/<sheet>`` and ``root/CASME2_RAW_selected/subXX/<Filename>/
    img<N>.jpg`` (``frames_folder=None``: subject folders directly in ``root``)."""
    clips = CASME2_CLIPS if clips is None else clips
    frames_root = root / frames_folder if frames_folder else root
    for clip in clips:
        folder = frames_root / f"sub{clip['subject']:02d}" / clip["filename"]
        for n in _frame_numbers(clip, folder):
            write_jpeg(folder / f"img{n}.jpg", image(f"{folder.parent.name}/{folder.name}", n))
    rows = [
        [c["subject"], c["filename"], f"{c['filename']}.avi", c["onset"], c["apex"],
         c["offset"], None, c.get("action_units", "12"), c["emotion"]]
        for c in clips
    ]
    write_sheet(root / sheet_name, CASME2_HEADER, rows)
    return root


def write_samm(root: Path, clips: list[dict[str, Any]] | None = None, nested: bool = True,
               sheet_name: str = SAMM_SHEET, image: ImageMaker = noise_image) -> Path:
    """A SAMM tree: the sheet (13-row preamble, header on row 14) in ``root`` and grayscale
    ``<subject>_<frame 5 digits>.jpg`` under ``root/SAMM/<subject>/<Filename>/`` (``nested``)
    or ``root/<subject>/<Filename>/``."""
    clips = SAMM_CLIPS if clips is None else clips
    frames_root = root / "SAMM" if nested else root
    for clip in clips:
        subject = f"{clip['subject']:03d}"
        folder = frames_root / subject / clip["filename"]
        for n in _frame_numbers(clip, folder):
            write_jpeg(folder / f"{subject}_{n:05d}.jpg", image(f"{subject}/{folder.name}", n),
                       grayscale=True)
    preamble = [["SAMM Micro Movement FACS Codes"], [], ["Version 2"],
                ["Frames are numbered as in the original sequences"]]
    rows = [
        [c["subject"], c["filename"], "1", c["onset"], c["apex"], c["offset"],
         None, "Micro - 1/2", "R12", c["emotion"], "II", None]
        for c in clips
    ]
    write_sheet(root / sheet_name, SAMM_HEADER, rows, preamble, header_row=SAMM_HEADER_ROW)
    return root


def smic_clip_folder(hs: Path, clip: dict[str, Any]) -> Path:
    """``HS/s<N>/micro/<class>/s<N>_<code>_<NN>`` of a SMIC clip dict."""
    subject = f"s{clip['subject']}"
    name = f"{subject}_{SMIC_CODES.get(clip['emotion'], clip['emotion'])}_{clip['index']:02d}"
    return hs / subject / "micro" / clip["emotion"] / name


def write_smic(root: Path, clips: list[dict[str, Any]] | None = None,
               image: ImageMaker = noise_image) -> Path:
    """A SMIC-HS tree ``root/HS/s<N>/micro/<class>/<clip>/image<number>.jpg``."""
    clips = SMIC_CLIPS if clips is None else clips
    for clip in clips:
        folder = smic_clip_folder(root / "HS", clip)
        folder.mkdir(parents=True, exist_ok=True)
        if "frames" in clip:
            numbers = clip["frames"]
        else:
            numbers = range(clip["first"], clip["first"] + clip["n_frames"])
        for n in numbers:
            write_jpeg(folder / f"image{n:06d}.jpg", image(folder.name, n))
    return root


CASME3_SHEET = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
CASME3_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class",
                 "emotion"]
CASME3_CLIPS: list[dict[str, Any]] = [
    # Two micro-expressions of one video (a); frames 9..12 come before 10.. in name order.
    sheet_clip("spNO.1", "a", 9, 10, 12, "happy"),
    sheet_clip("spNO.1", "a", 30, 30, 32, "disgust"),
    sheet_clip("spNO.1", "b", 14, 15, 17, "surprise"),
    sheet_clip("spNO.2", "c", 20, 21, 23, "sad"),
    sheet_clip("spNO.2", "d", 40, 42, 43, "Others"),
]


def write_casme3(root: Path, clips: list[dict[str, Any]] | None = None,
                 sheet_folder: str | None = None, depth: bool = True,
                 image: ImageMaker = noise_image) -> Path:
    """A CAS(ME)^3 Part A tree: the ME sheet (worksheet ``label``) in ``root`` (or
    ``root/<sheet_folder>``), colour frames ``root/<Subject>/<Filename>/color/<N>.jpg`` (not
    zero-padded) and, with ``depth``, 16-bit ``depth/<N>.png`` beside them. Clips of one
    video share its folder."""
    clips = CASME3_CLIPS if clips is None else clips
    for clip in clips:
        video = root / clip["subject"] / clip["filename"]
        for n in _frame_numbers(clip, video / "color"):
            write_jpeg(video / "color" / f"{n}.jpg", image(f"{clip['subject']}/{video.name}", n))
            if depth:
                (video / "depth").mkdir(exist_ok=True)
                cv2.imwrite(str(video / "depth" / f"{n}.png"), np.full((8, 8), 900, np.uint16))
    rows = [
        [c["subject"], c["filename"], c["onset"], c["apex"], c["offset"],
         c.get("action_units", "AU12"), c.get("objective_class", "1"), c["emotion"]]
        for c in clips
    ]
    sheet = root / sheet_folder / CASME3_SHEET if sheet_folder else root / CASME3_SHEET
    write_sheet(sheet, CASME3_HEADER, rows, title="label")
    return root


MMEW_SHEET = "MMEW_Micro_Exp.xlsx"
MMEW_HEADER = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units",
               "Estimated Emotion", "remarks"]
MMEW_CLIPS: list[dict[str, Any]] = [
    # Frames 1..11: numeric order differs from name order (10.jpg, 11.jpg before 2.jpg).
    sheet_clip("S01", "S01-01-001", 1, 6, 11, "happiness"),
    sheet_clip("S01", "S01-02-003", 1, 2, 4, "surprise"),
    sheet_clip("S02", "S02-01-002", 1, 3, 4, "disgust"),
    sheet_clip("S02", "S02-03-001", 1, 2, 3, "others"),
]


def write_mmew(root: Path, clips: list[dict[str, Any]] | None = None,
               image: ImageMaker = noise_image) -> Path:
    """An MMEW tree: ``root/MMEW_Micro_Exp.xlsx`` and ``root/Micro_Expression/<emotion>/
    <Filename>/<N>.jpg`` (``folder_emotion`` in a clip dict names another emotion folder)."""
    clips = MMEW_CLIPS if clips is None else clips
    for clip in clips:
        folder = (root / "Micro_Expression" / clip.get("folder_emotion", clip["emotion"])
                  / clip["filename"])
        for n in _frame_numbers(clip, folder):
            write_jpeg(folder / f"{n}.jpg", image(folder.name, n))
    rows = [
        [c["subject"], c["filename"], c["onset"], c["apex"], c["offset"],
         c.get("action_units", "AU12"), c["emotion"], c.get("remarks")]
        for c in clips
    ]
    write_sheet(root / MMEW_SHEET, MMEW_HEADER, rows)
    return root


FOURDME_SHEET = "4DME_Labelling_Micro_release v1.xlsx"
FOURDME_HEADER = ["fold", "sub_ID", "fold_name", "Onset", "Apex", "Offset", "AUs", "Emotion",
                  "Positive", "Negative", "Surprise", "Repression", "Others", "Total"]
FOURDME_EMOTIONS = ("Positive", "Negative", "Surprise", "Repression", "Others")


def fourdme_clip(subject: str, fold_name: str, onset: int, apex: int, offset: int,
                 *emotions: str) -> dict[str, Any]:
    """A 4DME clip dict: its emotions are the 0/1 columns set to 1 (any cell given as
    ``Column=value`` is written as that value instead)."""
    return {**sheet_clip(subject, fold_name, onset, apex, offset, "+".join(emotions)),
            "flags": emotions}


FOURDME_CLIPS: list[dict[str, Any]] = [
    # The frame number is the last digits of a name that holds others (S01_1st_001_0012.jpg).
    fourdme_clip("S01", "S01_1st_001", 9, 10, 12, "Positive"),
    fourdme_clip("S01", "S01_1st_002", 20, 21, 23, "Negative", "Repression"),
    fourdme_clip("S02", "S02_2nd_001", 5, 6, 8, "Positive", "Surprise"),
    fourdme_clip("S02", "S02_2nd_002", 30, 31, 33, "Surprise"),
]


def write_4dme(root: Path, clips: list[dict[str, Any]] | None = None,
               header: Sequence[str] = FOURDME_HEADER, image: ImageMaker = noise_image) -> Path:
    """A 4DME tree: ``root/<sheet>`` and ``root/gray_micro/<sub_ID>/<fold_name>/
    <fold_name>_<NNNN>.jpg`` holding onset..offset."""
    clips = FOURDME_CLIPS if clips is None else clips
    for clip in clips:
        folder = root / "gray_micro" / clip["subject"] / clip["filename"]
        for n in _frame_numbers(clip, folder):
            write_jpeg(folder / f"{clip['filename']}_{n:04d}.jpg", image(folder.name, n))
    rows = []
    for number, clip in enumerate(clips, start=1):
        cells = dict(clip.get("cells", {}))
        flags = {column: int(column in clip["flags"]) for column in FOURDME_EMOTIONS}
        values = {"fold": number, "sub_ID": clip["subject"], "fold_name": clip["filename"],
                  "Onset": clip["onset"], "Apex": clip["apex"], "Offset": clip["offset"],
                  "AUs": "AU12", "Emotion": clip["emotion"], **flags,
                  "Total": sum(flags.values()), **cells}
        rows.append([values.get(column) for column in header])
    write_sheet(root / FOURDME_SHEET, header, rows)
    return root
