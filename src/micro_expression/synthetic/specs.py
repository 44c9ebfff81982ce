"""The corpus plan as plain data: subjects, clips and the corpus that holds them.

Layout written under a root folder (the CASME II layout, plus ground truth and a manifest)::

    CASME2-coding-20140508.xlsx
    CASME2_RAW_selected/sub01/EP02_01f/img<onset>.jpg ... img<offset>.jpg
    ground_truth/sub01/EP02_01f.npz
    corpus.json
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micro_expression.readers.casme2 import FRAMES_FOLDER
from micro_expression.readers.ground_truth import GROUND_TRUTH_FOLDER
from micro_expression.synthetic.face import IdentitySpec
from micro_expression.synthetic.params import SyntheticParams


@dataclass(frozen=True)
class SubjectSpec:
    """One subject: its number (``sub%02d``) and identity."""

    number: int
    identity: IdentitySpec

    @property
    def folder(self) -> str:
        return f"sub{self.number:02d}"


@dataclass(frozen=True)
class ClipSpec:
    """One clip of the plan; pixels are rendered only by :meth:`GeneratedCorpus.write`.

    ``action_units`` are the coded units with relative strengths (the strongest is 1);
    ``distractor`` is an uncoded weak unit from another emotion (``difficulty``);
    ``side_gain`` scales the image-left / image-right halves.
    """

    subject: int
    filename: str
    label: str
    emotion: str
    action_units: tuple[tuple[int, float], ...]
    distractor: tuple[tuple[int, float], ...]
    side_gain: tuple[float, float]
    amplitude_px: float
    onset: int
    apex: int
    offset: int
    seed: int

    @property
    def subject_folder(self) -> str:
        return f"sub{self.subject:02d}"

    @property
    def frame_numbers(self) -> range:
        return range(self.onset, self.offset + 1)

    @property
    def action_unit_code(self) -> str:
        """The sheet's ``Action Units`` cell, e.g. ``6+12``."""
        return "+".join(str(unit) for unit, _ in self.action_units)

    @property
    def clip_folder(self) -> str:
        return f"{FRAMES_FOLDER}/{self.subject_folder}/{self.filename}"

    @property
    def ground_truth_file(self) -> str:
        return f"{GROUND_TRUTH_FOLDER}/{self.subject_folder}/{self.filename}.npz"

    def frame_file(self, number: int) -> str:
        return f"{self.clip_folder}/img{number}.jpg"

    def files(self) -> list[str]:
        """Root-relative paths of every file of this clip (frames, then ground truth)."""
        return [self.frame_file(n) for n in self.frame_numbers] + [self.ground_truth_file]


@dataclass(frozen=True)
class GeneratedCorpus:
    """A deterministic plan of the corpus; :meth:`write` renders it to disk."""

    params: SyntheticParams
    subjects: tuple[SubjectSpec, ...]
    clips: tuple[ClipSpec, ...]

    @property
    def frame_count(self) -> int:
        return sum(len(clip.frame_numbers) for clip in self.clips)

    def counts(self) -> dict[str, Any]:
        """Clips, frames and subjects, clips per class, per emotion and per subject and class."""
        per_subject: dict[str, Counter] = {s.folder: Counter() for s in self.subjects}
        for clip in self.clips:
            per_subject[clip.subject_folder][clip.label] += 1
        return {
            "clips": len(self.clips),
            "frames": self.frame_count,
            "subjects": len(self.subjects),
            "per_class": dict(sorted(Counter(c.label for c in self.clips).items())),
            "per_emotion": dict(sorted(Counter(c.emotion for c in self.clips).items())),
            "per_subject": {k: dict(sorted(v.items())) for k, v in per_subject.items()},
        }

    def sheet_rows(self) -> list[tuple[int, str, int, int, int, str, str]]:
        """Coding-sheet rows ``(Subject, Filename, Onset, Apex, Offset, AUs, emotion)``."""
        return [
            (c.subject, c.filename, c.onset, c.apex, c.offset, c.action_unit_code, c.emotion)
            for c in self.clips
        ]

    def write(self, root: str | Path) -> dict[str, Any]:
        """Write the corpus under ``root`` and return its manifest (``corpus.json``).

        Nothing is rendered when ``root`` already holds this corpus (same parameter digest)
        intact; damaged or missing clips alone are re-rendered. Each clip is written to a
        temporary folder and renamed into place.
        """
        # Imported here: the writer renders these specs, so it imports this module.
        from micro_expression.synthetic.writer import write_corpus

        return write_corpus(self, Path(root))
