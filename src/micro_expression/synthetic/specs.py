"""The corpus plan as plain data: subjects, clips and the corpus that holds them.

Written under a root folder, in the layout of ``synthetic.layout`` (CASME II by default),
plus ground truth and a manifest::

    CASME2-coding-20140508.xlsx
    CASME2_RAW_selected/sub01/EP02_01f/img<onset>.jpg ... img<offset>.jpg
    ground_truth/sub01/EP02_01f.npz
    corpus.json

With two or more layouts, each part (its subjects dealt round-robin) is under
``<root>/<layout>/`` and ``corpus.json`` stays in ``<root>``. A clip's ground truth is
``ground_truth/<subject>/<clip>.npz`` in its part, after the clip id its reader gives it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micro_expression.readers.generated import part_root
from micro_expression.readers.ground_truth import ground_truth_file
from micro_expression.readers.labels import generated_datasets
from micro_expression.synthetic.coding_sheet import CodingSheet
from micro_expression.synthetic.face import IdentitySpec
from micro_expression.synthetic.layouts import LAYOUTS, CorpusLayout
from micro_expression.synthetic.params import SyntheticParams


def part_folders(layouts: tuple[str, ...]) -> dict[str, str]:
    """The folder of each layout's part, relative to the corpus root (``.`` when alone)."""
    return {layout: part_root(Path(), layouts, layout).as_posix() for layout in layouts}


@dataclass(frozen=True)
class SubjectSpec:
    """One subject: its number, identity and the layout it is written in."""

    number: int
    identity: IdentitySpec
    layout: str

    @property
    def name(self) -> str:
        """The subject as its layout's reader names it (``sub01``, ``S02``, ``spNO.3``)."""
        return LAYOUTS[self.layout].subject_name(self.number)


@dataclass(frozen=True)
class ClipSpec:
    """One clip of the plan; pixels are rendered only by :meth:`GeneratedCorpus.write`.

    ``action_units`` are the coded units with relative strengths (the strongest is 1);
    ``distractor`` is an uncoded weak unit from another emotion (``difficulty``);
    ``side_gain`` scales the image-left / image-right halves. ``emotion`` is the word the
    clip's layout codes it with; ``part`` is the folder of that layout's part in the corpus
    root (``.`` when the corpus has one layout) and ``dataset`` the name its clips carry.
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
    layout: str
    part: str
    dataset: str

    @property
    def corpus_layout(self) -> CorpusLayout:
        return LAYOUTS[self.layout]

    @property
    def subject_name(self) -> str:
        return self.corpus_layout.subject_name(self.subject)

    @property
    def frame_numbers(self) -> range:
        return range(self.onset, self.offset + 1)

    @property
    def action_unit_code(self) -> str:
        """The sheet's ``Action Units`` cell, e.g. ``6+12``."""
        return "+".join(str(unit) for unit, _ in self.action_units)

    @property
    def clip_id(self) -> str:
        """The clip id its layout's reader gives the clip (``synthetic/sub01/EP02_01f``)."""
        return f"{self.dataset}/{self.subject_name}/{self.corpus_layout.clip_name(self)}"

    @property
    def clip_folder(self) -> str:
        return (Path(self.part) / self.corpus_layout.clip_folder(self)).as_posix()

    @property
    def ground_truth_file(self) -> str:
        _, subject, name = self.clip_id.split("/", 2)
        return ground_truth_file(self.part, subject, name).as_posix()

    def frame_name(self, number: int) -> str:
        return self.corpus_layout.frame_name(self, number)

    def frame_file(self, number: int) -> str:
        return f"{self.clip_folder}/{self.frame_name(number)}"

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
        per_subject: dict[str, Counter] = {s.name: Counter() for s in self.subjects}
        for clip in self.clips:
            per_subject[clip.subject_name][clip.label] += 1
        return {
            "clips": len(self.clips),
            "frames": self.frame_count,
            "subjects": len(self.subjects),
            "per_class": dict(sorted(Counter(c.label for c in self.clips).items())),
            "per_emotion": dict(sorted(Counter(c.emotion for c in self.clips).items())),
            "per_subject": {k: dict(sorted(v.items())) for k, v in per_subject.items()},
        }

    def datasets(self) -> list[str]:
        """The dataset names its clips carry when read, in layout order: ``["synthetic"]``
        for CASME II alone, else ``synthetic_<layout>`` per part."""
        return generated_datasets(self.params.layout)

    def subject_ids(self) -> list[str]:
        """Its subjects as ingestion names them (``synthetic/sub01``, ``synthetic_mmew/S02``),
        sorted."""
        dataset = dict(zip(self.params.layout, self.datasets()))
        return sorted(f"{dataset[s.layout]}/{s.name}" for s in self.subjects)

    def sheets(self) -> dict[str, CodingSheet]:
        """The coding sheet of each part that has one, by its root-relative path."""
        sheets = {}
        for name, part in part_folders(self.params.layout).items():
            layout = LAYOUTS[name]
            sheet = layout.sheet([clip for clip in self.clips if clip.layout == name])
            if sheet is not None:
                sheets[(Path(part) / layout.sheet_file).as_posix()] = sheet
        return sheets

    def write(self, root: str | Path) -> dict[str, Any]:
        """Write the corpus under ``root`` and return its manifest (``corpus.json``).

        Nothing is rendered when ``root`` already holds this corpus (same parameter digest)
        intact; damaged or missing clips alone are re-rendered. Each clip is written to a
        temporary folder and renamed into place.
        """
        # Imported here: the writer renders these specs, so it imports this module.
        from micro_expression.synthetic.writer import write_corpus

        return write_corpus(self, Path(root))
