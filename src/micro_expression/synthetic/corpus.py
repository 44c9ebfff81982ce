"""Plan the generated corpus: sample its subjects and clips (:func:`generate_corpus`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from micro_expression.readers.labels import generated_datasets
from micro_expression.synthetic.action_units import EMOTION_ACTION_UNITS
from micro_expression.synthetic.face import sample_identity
from micro_expression.synthetic.layouts import LAYOUTS, CorpusLayout, Take
from micro_expression.synthetic.params import SyntheticParams, parse_params
from micro_expression.synthetic.specs import ClipSpec, GeneratedCorpus, SubjectSpec, part_folders

# Class label -> the CASME II emotions planned for that class (each layout writes its word).
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
class _Part:
    """Where a subject's clips go: its layout, the folder of its part and its dataset name."""

    layout: CorpusLayout
    folder: str
    dataset: str


def _sample_clip(
    rng: np.random.Generator, params: SyntheticParams, subject: int, label: str, filename: str,
    part: _Part,
) -> ClipSpec:
    emotion = str(rng.choice(CLASS_EMOTIONS[params.classes][label]))
    frame_count = int(rng.integers(params.frame_count[0], params.frame_count[1] + 1))
    onset = part.layout.first_frame(int(rng.integers(params.onset_frame[0],
                                                     params.onset_frame[1] + 1)))
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
        emotion=part.layout.emotions[emotion],
        action_units=tuple((int(u), float(s)) for u, s in zip(units, strengths)),
        distractor=distractor,
        side_gain=side_gain,
        amplitude_px=float(rng.uniform(*params.amplitude_px)),
        onset=onset,
        apex=onset + apex_index,
        offset=onset + frame_count - 1,
        seed=int(rng.integers(2**63 - 1)),
        layout=part.layout.name,
        part=part.folder,
        dataset=part.dataset,
    )


def _takes(rng: np.random.Generator, count: int) -> list[Take]:
    """Unique CASME II style takes (``EP<episode>_<n>[f]``), in random order."""
    per_episode: Counter[int] = Counter()
    takes = []
    for episode in np.sort(rng.integers(1, EPISODES + 1, size=count)):
        per_episode[int(episode)] += 1
        suffix = "f" if rng.random() < 0.5 else ""
        takes.append(Take(int(episode), per_episode[int(episode)], suffix))
    return [takes[i] for i in rng.permutation(count)]


def _parts(layouts: tuple[str, ...]) -> list[_Part]:
    folders = part_folders(layouts)
    return [_Part(LAYOUTS[name], folders[name], dataset)
            for name, dataset in zip(layouts, generated_datasets(layouts))]


def generate_corpus(params: dict[str, Any] | SyntheticParams) -> GeneratedCorpus:
    """Plan the corpus from ``params:synthetic`` (cheap: specs only, no pixels)."""
    params = params if isinstance(params, SyntheticParams) else parse_params(params)
    scheme = CLASS_EMOTIONS[params.classes]
    parts = _parts(params.layout)
    subjects, clips = [], []
    for number in range(1, params.subjects + 1):
        part = parts[(number - 1) % len(parts)]  # subjects dealt to the parts round-robin
        # One stream per subject: a subject's clips do not change when others are added.
        rng = np.random.default_rng(np.random.SeedSequence(params.seed, spawn_key=(number,)))
        identity = sample_identity(rng, params.face_width_px, params.image_size)
        subjects.append(SubjectSpec(number, identity, part.layout.name))
        labels = [label for label in scheme for _ in range(params.clips_per_class)]
        names = part.layout.clip_filenames(number, labels, _takes(rng, len(labels)))
        subject_clips = [
            _sample_clip(rng, params, number, label, name, part)
            for label, name in zip(labels, names)
        ]
        clips.extend(sorted(subject_clips, key=lambda clip: clip.filename))
    return GeneratedCorpus(params=params, subjects=tuple(subjects), clips=tuple(clips))
