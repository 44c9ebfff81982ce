"""SMIC-HS: ``HS/s<N>/micro/{negative,positive,surprise}/s<N>_<ne|po|sur>_<NN>/<frames>``.

There is no coding sheet: each clip folder is a clip, its class folder is its label, onset
and offset are its first and last frame numbers, and apex is unknown.

Hand-written: no library reads SMIC's folder-coded layout.
"""

from __future__ import annotations

import re
from pathlib import Path

from micro_expression.readers.images import inspect_frames, numbered_frames
from micro_expression.readers.records import SourceClip

FPS = 100.0
HS_FOLDER = "HS"
MICRO_FOLDER = "micro"
SUBJECT_PATTERN = re.compile(r"s(\d+)")
# Frames are ``image<number>`` in the release; the original BMPs are accepted too.
FRAME_PATTERN = re.compile(r"\D*(\d+)\.(?:jpe?g|bmp|png)", re.IGNORECASE)


def _subject_folders(folder: Path) -> list[Path]:
    found = [
        p for p in folder.iterdir()
        if SUBJECT_PATTERN.fullmatch(p.name) and (p / MICRO_FOLDER).is_dir()
    ]
    return sorted(found, key=lambda p: int(SUBJECT_PATTERN.fullmatch(p.name).group(1)))


def hs_folder(root: Path) -> Path:
    """The ``HS`` folder: ``root/HS``, or ``root`` itself when it holds ``s<N>/micro``."""
    if (root / HS_FOLDER).is_dir():
        return root / HS_FOLDER
    if _subject_folders(root):
        return root
    raise FileNotFoundError(
        f"SMIC-HS not found under {root}: expected {root / HS_FOLDER}/ or s<N>/micro/ "
        f"folders directly in {root}"
    )


def read_smic(root: Path, dataset: str = "smic") -> list[SourceClip]:
    """Every clip folder of SMIC-HS under ``root`` as a clip, frames scanned."""
    hs = hs_folder(root)
    listed = []
    for subject in _subject_folders(hs):
        for class_folder in sorted(p for p in (subject / MICRO_FOLDER).iterdir() if p.is_dir()):
            for clip in sorted(p for p in class_folder.iterdir() if p.is_dir()):
                files = numbered_frames(clip, FRAME_PATTERN)
                listed.append((subject.name, class_folder.name, clip, files))
    if not listed:
        raise ValueError(f"Empty dataset: no clip folders s<N>/micro/<class>/<clip>/ in {hs}")
    inspected = inspect_frames((f for *_, files in listed for f in files), desc=dataset)
    return [
        SourceClip(
            dataset=dataset,
            subject=f"{dataset}/{subject}",
            clip_id=f"{dataset}/{subject}/{clip.name}",
            source=str(clip),
            folder=str(clip),
            onset=files[0][0] if files else None,
            apex=None,
            offset=files[-1][0] if files else None,
            emotion=emotion,
            fps=FPS,
            frames=tuple(inspected[path] for _, path in files),
        )
        for subject, emotion, clip, files in listed
    ]
