"""The generated corpus as a cheap plan of subjects and clips (:func:`generate_corpus`).

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

import numpy as np

from micro_expression.synthetic.action_units import EMOTION_ACTION_UNITS
from micro_expression.synthetic.face import IdentitySpec, sample_identity
from micro_expression.synthetic.ground_truth import FRAMES_FOLDER, GROUND_TRUTH_FOLDER
from micro_expression.synthetic.params import SyntheticParams, parse_params
from micro_expression.synthetic.writer import write_corpus

# Class label -> CASME II emotions written in the sheet for that class.
CLASS_EMOTIONS: dict[int, dict[str, tuple[str, ...]]] = {
    3: {
        "negative": ("disgust", "repression"),
        "positive": ("happiness",),
        "surprise": ("surprise",),
    },
    5: {e: (e,) for e in ("happiness", "surprise", "disgust", "repression", "others")},
}
EPISODES = 19  # CASME II elicitation videos EP01..EP19


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


def _sample_clip(
    rng: np.random.Generator, params: SyntheticParams, subject: int, label: str, filename: str
) -> ClipSpec:
    emotion = str(rng.choice(CLASS_EMOTIONS[params.classes][label]))
    frame_count = int(rng.integers(params.frame_count[0], params.frame_count[1] + 1))
    onset = int(rng.integers(params.onset_frame[0], params.onset_frame[1] + 1))
    last = frame_count - 1
    apex_index = int(np.clip(rng.integers(round(0.3 * last), round(0.6 * last) + 1), 1, last - 1))
    units = EMOTION_ACTION_UNITS[emotion]
    strengths = rng.uniform(0.6, 1.0, size=len(units))
    strengths /= strengths.max()
    others = sorted({u for us in EMOTION_ACTION_UNITS.values() for u in us} - set(units))
    distractor = (
        ((int(rng.choice(others)), params.difficulty * float(rng.uniform(0.5, 1.0))),)
        if params.difficulty > 0
        else ()
    )
    weak_side = 1.0 - params.difficulty * float(rng.uniform(0.0, 0.5))
    side_gain = (1.0, weak_side) if rng.random() < 0.5 else (weak_side, 1.0)
    return ClipSpec(
        subject=subject,
        filename=filename,
        label=label,
        emotion=emotion,
        action_units=tuple((int(u), float(s)) for u, s in zip(units, strengths)),
        distractor=distractor,
        side_gain=side_gain,
        amplitude_px=float(rng.uniform(*params.amplitude_px)),
        onset=onset,
        apex=onset + apex_index,
        offset=onset + frame_count - 1,
        seed=int(rng.integers(2**63 - 1)),
    )


def _clip_filenames(rng: np.random.Generator, count: int) -> list[str]:
    """Unique CASME II style names ``EP<episode>_<n>[f]``, in random order."""
    per_episode: Counter[int] = Counter()
    names = []
    for episode in np.sort(rng.integers(1, EPISODES + 1, size=count)):
        per_episode[int(episode)] += 1
        suffix = "f" if rng.random() < 0.5 else ""
        names.append(f"EP{episode:02d}_{per_episode[int(episode)]:02d}{suffix}")
    return [names[i] for i in rng.permutation(count)]


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
        return write_corpus(self, Path(root))


def generate_corpus(params: dict[str, Any] | SyntheticParams) -> GeneratedCorpus:
    """Plan the corpus from ``params:synthetic`` (cheap: specs only, no pixels)."""
    params = params if isinstance(params, SyntheticParams) else parse_params(params)
    scheme = CLASS_EMOTIONS[params.classes]
    subjects, clips = [], []
    for number in range(1, params.subjects + 1):
        # One stream per subject: a subject's clips do not change when others are added.
        rng = np.random.default_rng(np.random.SeedSequence(params.seed, spawn_key=(number,)))
        identity = sample_identity(rng, params.face_width_px, params.image_size)
        subjects.append(SubjectSpec(number, identity))
        labels = [label for label in scheme for _ in range(params.clips_per_class)]
        names = _clip_filenames(rng, len(labels))
        subject_clips = [
            _sample_clip(rng, params, number, label, name) for label, name in zip(labels, names)
        ]
        clips.extend(sorted(subject_clips, key=lambda clip: clip.filename))
    return GeneratedCorpus(params=params, subjects=tuple(subjects), clips=tuple(clips))
