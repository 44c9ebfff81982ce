"""The dataset layouts a generated corpus can be written in (``synthetic.layout``).

A :class:`CorpusLayout` says where a clip's frames go, what the layout's reader will call the
clip and what its coding sheet says of it. The facts (folders, frame names, sheet names and
columns, subject names) come from the readers in :mod:`micro_expression.readers`, so that
reading a generated corpus runs the same code as reading the real dataset.
"""

from __future__ import annotations

import string
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from micro_expression.readers import casme2, casme3, mmew, samm, smic
from micro_expression.readers.sheets import SheetRow
from micro_expression.synthetic.action_units import EMOTION_ACTION_UNITS
from micro_expression.synthetic.coding_sheet import CodingSheet, Row

if TYPE_CHECKING:
    from micro_expression.synthetic.specs import ClipSpec


@dataclass(frozen=True)
class Take:
    """Where a clip comes from in its subject's session: the elicitation episode, the take
    within it, and CASME II's ``f`` suffix (``EP02_01f``) or none."""

    episode: int
    number: int
    suffix: str


@dataclass(frozen=True)
class CorpusLayout(ABC):
    """How one dataset lays out the generated clips; frames count from the sampled onset and
    a clip is named by its Filename unless a layout says otherwise."""

    name: str
    frames_folder: str
    """The folder in the layout's root that holds every clip folder."""
    sheet_file: str | None
    """The coding sheet, relative to the layout's root (None: the folders code the clips)."""
    emotions: dict[str, str]
    """The word written for each planned emotion (CASME II's), in this dataset's vocabulary."""
    max_clips_per_subject: int | None = None

    @property
    def top_level_names(self) -> tuple[str, ...]:
        """What the layout writes directly in its root, besides the ground truth."""
        return (self.frames_folder, *([self.sheet_file] if self.sheet_file else []))

    @abstractmethod
    def subject_name(self, number: int) -> str:
        """Subject ``number`` as the layout's reader names it."""

    @abstractmethod
    def clip_filenames(self, subject: int, labels: Sequence[str], takes: Sequence[Take]
                       ) -> list[str]:
        """The Filename of each clip of a subject (its class label and take), unique in it."""

    @abstractmethod
    def clip_folder(self, clip: ClipSpec) -> str:
        """The folder of the clip's frames, relative to the layout's root."""

    @abstractmethod
    def frame_name(self, clip: ClipSpec, number: int) -> str:
        """The file name of the clip's frame ``number``."""

    def first_frame(self, onset: int) -> int:
        """The number of a clip's first frame, given the sampled onset."""
        return onset

    def clip_name(self, clip: ClipSpec) -> str:
        """The clip's name in the clip id the layout's reader gives it."""
        return clip.filename

    def sheet(self, clips: Sequence[ClipSpec]) -> CodingSheet | None:
        """The coding sheet of ``clips`` (None: the layout has none)."""
        return None


# The real sheet's header row; ``None`` cells are the two unnamed columns, which pandas
# reads as "Unnamed: 2" and "Unnamed: 6".
CASME2_HEADER: Row = (
    casme2.LAYOUT.subject, casme2.LAYOUT.filename, None, casme2.LAYOUT.onset,
    casme2.LAYOUT.apex, casme2.LAYOUT.offset, None, "Action Units", casme2.LAYOUT.emotion,
)  # fmt: skip


@dataclass(frozen=True)
class Casme2Layout(CorpusLayout):
    """``CASME2_RAW_selected/sub01/EP02_01f/img<N>.jpg`` and ``CASME2-coding-20140508.xlsx``."""

    def subject_name(self, number: int) -> str:
        return casme2.subject_folder(number)

    def clip_filenames(self, subject: int, labels: Sequence[str], takes: Sequence[Take]
                       ) -> list[str]:
        return [f"EP{take.episode:02d}_{take.number:02d}{take.suffix}" for take in takes]

    def clip_folder(self, clip: ClipSpec) -> str:
        return f"{self.frames_folder}/{clip.subject_name}/{clip.filename}"

    def frame_name(self, clip: ClipSpec, number: int) -> str:
        return f"img{number}.jpg"

    def sheet(self, clips: Sequence[ClipSpec]) -> CodingSheet:
        rows = tuple(
            (c.subject, c.filename, None, c.onset, c.apex, c.offset, None, c.action_unit_code,
             c.emotion)
            for c in clips
        )
        return CodingSheet(header=CASME2_HEADER, rows=rows)


SAMM_HEADER: Row = (
    samm.LAYOUT.subject, samm.LAYOUT.filename, "Inducement Code", samm.LAYOUT.onset,
    samm.LAYOUT.apex, samm.LAYOUT.offset, "Duration", "Micro", "Action Units",
    samm.LAYOUT.emotion, "Objective Classes", "Notes",
)  # fmt: skip
# SAMM v2's header is spreadsheet row 14, below a preamble.
SAMM_PREAMBLE: tuple[Row, ...] = (("SAMM Micro FACS Codes",), *[()] * 12)


@dataclass(frozen=True)
class SammLayout(CorpusLayout):
    """``SAMM/001/001_2_1/001_<frame 5 digits>.jpg`` and ``SAMM_Micro_FACS_Codes_v2.xlsx``."""

    def subject_name(self, number: int) -> str:
        return samm.subject_folder(number)

    def clip_filenames(self, subject: int, labels: Sequence[str], takes: Sequence[Take]
                       ) -> list[str]:
        name = self.subject_name(subject)
        return [f"{name}_{take.episode}_{take.number}" for take in takes]

    def clip_folder(self, clip: ClipSpec) -> str:
        return f"{self.frames_folder}/{clip.subject_name}/{clip.filename}"

    def frame_name(self, clip: ClipSpec, number: int) -> str:
        return f"{clip.subject_name}_{number:05d}.jpg"

    def sheet(self, clips: Sequence[ClipSpec]) -> CodingSheet:
        rows = tuple(
            (c.subject, c.filename, None, c.onset, c.apex, c.offset, len(c.frame_numbers),
             "Micro", c.action_unit_code, c.emotion, None, None)
            for c in clips
        )
        return CodingSheet(header=SAMM_HEADER, rows=rows, preamble=SAMM_PREAMBLE)


# SMIC's clip folders are s<N>_<class code>_<NN> (s1_ne_01, s1_po_02, s1_sur_01).
SMIC_CLASS_CODES = {"negative": "ne", "positive": "po", "surprise": "sur"}


@dataclass(frozen=True)
class SmicLayout(CorpusLayout):
    """``HS/s1/micro/<class>/s1_<ne|po|sur>_<NN>/image<frame 6 digits>.jpg``; no sheet."""

    def subject_name(self, number: int) -> str:
        return f"s{number}"

    def clip_filenames(self, subject: int, labels: Sequence[str], takes: Sequence[Take]
                       ) -> list[str]:
        taken: Counter[str] = Counter()
        names = []
        for label in labels:
            taken[label] += 1
            names.append(f"{self.subject_name(subject)}_{SMIC_CLASS_CODES[label]}_"
                         f"{taken[label]:02d}")
        return names

    def clip_folder(self, clip: ClipSpec) -> str:
        return (f"{self.frames_folder}/{clip.subject_name}/{smic.MICRO_FOLDER}/{clip.emotion}/"
                f"{clip.filename}")

    def frame_name(self, clip: ClipSpec, number: int) -> str:
        return f"image{number:06d}.jpg"


CASME3_HEADER: Row = (
    casme3.LAYOUT.subject, casme3.LAYOUT.filename, casme3.LAYOUT.onset, casme3.LAYOUT.apex,
    casme3.LAYOUT.offset, "AU", "Objective class", casme3.LAYOUT.emotion,
)  # fmt: skip
CASME3_WORKSHEET = "label"
# Part A's videos are lettered a..m; each generated clip gets a video of its own.
CASME3_VIDEOS = string.ascii_lowercase[:13]


@dataclass(frozen=True)
class Casme3Layout(CorpusLayout):
    """``part_A/spNO.1/<video letter>/color/<N>.jpg`` and the Part A ME label sheet."""

    def subject_name(self, number: int) -> str:
        return casme3.subject_folder(number)

    def clip_filenames(self, subject: int, labels: Sequence[str], takes: Sequence[Take]
                       ) -> list[str]:
        in_session_order = sorted(takes, key=lambda take: (take.episode, take.number))
        return [CASME3_VIDEOS[in_session_order.index(take)] for take in takes]

    def clip_folder(self, clip: ClipSpec) -> str:
        return f"{self.frames_folder}/{clip.subject_name}/{clip.filename}/{casme3.COLOUR_FOLDER}"

    def frame_name(self, clip: ClipSpec, number: int) -> str:
        return f"{number}.jpg"

    def clip_name(self, clip: ClipSpec) -> str:
        return casme3.clip_name(SheetRow(0, {casme3.LAYOUT.onset: clip.onset}), clip.filename)

    def sheet(self, clips: Sequence[ClipSpec]) -> CodingSheet:
        rows = tuple(
            (c.subject_name, c.filename, c.onset, c.apex, c.offset, c.action_unit_code, None,
             c.emotion)
            for c in clips
        )
        return CodingSheet(header=CASME3_HEADER, rows=rows, title=CASME3_WORKSHEET)


MMEW_HEADER: Row = (
    mmew.LAYOUT.subject, mmew.LAYOUT.filename, mmew.LAYOUT.onset, mmew.LAYOUT.apex,
    mmew.LAYOUT.offset, "Action Units", mmew.LAYOUT.emotion, "remarks",
)  # fmt: skip


@dataclass(frozen=True)
class MmewLayout(CorpusLayout):
    """``Micro_Expression/<emotion>/S01-02-003/<N>.jpg`` (N from 1) and ``MMEW_Micro_Exp.xlsx``."""

    def subject_name(self, number: int) -> str:
        return mmew.subject_name(number)

    def clip_filenames(self, subject: int, labels: Sequence[str], takes: Sequence[Take]
                       ) -> list[str]:
        name = self.subject_name(subject)
        return [f"{name}-{take.episode:02d}-{take.number:03d}" for take in takes]

    def first_frame(self, onset: int) -> int:
        return 1  # MMEW numbers each clip's frames from 1, its onset

    def clip_folder(self, clip: ClipSpec) -> str:
        return f"{self.frames_folder}/{clip.emotion}/{clip.filename}"

    def frame_name(self, clip: ClipSpec, number: int) -> str:
        return f"{number}.jpg"

    def sheet(self, clips: Sequence[ClipSpec]) -> CodingSheet:
        rows = tuple(
            (c.subject_name, c.filename, c.onset, c.apex, c.offset, c.action_unit_code, c.emotion,
             None)
            for c in clips
        )
        return CodingSheet(header=MMEW_HEADER, rows=rows)


# The planned emotions are CASME II's; repression's action units (lip corner depressor, chin
# raiser) are those of sadness, the negative emotion the other datasets code.
LAYOUTS: dict[str, CorpusLayout] = {
    layout.name: layout
    for layout in (
        Casme2Layout("casme2", casme2.FRAMES_FOLDER, casme2.SHEET,
                     {emotion: emotion for emotion in EMOTION_ACTION_UNITS}),
        SammLayout("samm", samm.FRAMES_FOLDER, samm.SHEET, {
            "happiness": "Happiness", "surprise": "Surprise", "disgust": "Disgust",
            "repression": "Sadness"}),
        SmicLayout("smic", smic.HS_FOLDER, None, {
            "happiness": "positive", "surprise": "surprise", "disgust": "negative",
            "repression": "negative"}),
        Casme3Layout("casme3", casme3.PART_A_FOLDER, casme3.SHEET, {
            "happiness": "happy", "surprise": "surprise", "disgust": "disgust",
            "repression": "sad"}, max_clips_per_subject=len(CASME3_VIDEOS)),
        MmewLayout("mmew", mmew.FRAMES_FOLDER, mmew.SHEET, {
            "happiness": "happiness", "surprise": "surprise", "disgust": "disgust",
            "repression": "sadness"}),
    )
}
"""Every layout the generated corpus can be written in, by name."""
