"""The generated corpus: a cheap plan of clips (:func:`generate_corpus`) and its writer.

Layout written under a root folder (the CASME II layout, plus ground truth and a manifest)::

    CASME2-coding-20140508.xlsx
    CASME2_RAW_selected/sub01/EP02_01f/img<onset>.jpg ... img<offset>.jpg
    ground_truth/sub01/EP02_01f.npz
    corpus.json
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from micro_expression import __version__
from micro_expression.synthetic.action_units import EMOTION_ACTION_UNITS, action_unit_bumps
from micro_expression.synthetic.coding_sheet import SHEET_FILENAME, coding_sheet_bytes
from micro_expression.synthetic.face import (
    IdentityFace,
    IdentitySpec,
    render_identity,
    sample_identity,
)
from micro_expression.synthetic.ground_truth import (
    FRAMES_FOLDER,
    GROUND_TRUTH_FOLDER,
    ClipGroundTruth,
)
from micro_expression.synthetic.motion import ClipMotion, envelope, sample_head_jitter
from micro_expression.synthetic.params import SyntheticParams, parse_params
from micro_expression.synthetic.render import (
    FrameRenderer,
    encode_jpeg,
    render_frames,
    sample_illumination,
)

logger = logging.getLogger(__name__)

MANIFEST_FILENAME = "corpus.json"
# Written before anything else, so an interrupted first write is still known to be ours.
MARKER_FILENAME = ".synthetic-corpus"
ALLOWED_FOREIGN_FILES = {".gitkeep"}

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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_matches(path: Path, expected: str | None) -> bool:
    if expected is None or not path.is_file():
        return False
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest() == expected


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


@dataclass(frozen=True)
class RenderedClip:
    """A clip's encoded frames (in frame order) and its ground truth."""

    frames: list[bytes]
    ground_truth: ClipGroundTruth


def render_clip(clip: ClipSpec, face: IdentityFace, params: SyntheticParams) -> RenderedClip:
    """Render one clip of the plan: JPEG frames and exact ground truth."""
    rng = np.random.default_rng(clip.seed)
    frame_count = len(clip.frame_numbers)
    motion = clip_motion(clip, face, params, rng)
    illumination = sample_illumination(rng, frame_count, params.nuisance.illumination_flicker)
    noise_seeds = rng.integers(2**31 - 1, size=frame_count)
    renderer = FrameRenderer(face.image, motion)
    frames = render_frames(renderer, illumination, params.nuisance.sensor_noise, noise_seeds)
    encoded = [encode_jpeg(frame, params.nuisance.jpeg_quality) for frame in frames]
    ground_truth = ClipGroundTruth.from_motion(
        onset_landmarks=face.landmarks,
        motion=motion,
        subject=clip.subject_folder,
        filename=clip.filename,
        emotion=clip.emotion,
        action_units=clip.action_unit_code,
        frame_numbers=np.array(clip.frame_numbers),
        apex_index=clip.apex - clip.onset,
        image_size=params.image_size,
    )
    return RenderedClip(frames=encoded, ground_truth=ground_truth)


def clip_motion(
    clip: ClipSpec, face: IdentityFace, params: SyntheticParams, rng: np.random.Generator
) -> ClipMotion:
    """The clip's motion model on a subject's face (draws its random parts from ``rng``)."""
    frame_count = len(clip.frame_numbers)
    bumps = action_unit_bumps(
        face.landmarks,
        dict(clip.action_units + clip.distractor),
        clip.amplitude_px,
        clip.side_gain,
        rng,
    )
    face_width = float(np.linalg.norm(face.landmarks[16] - face.landmarks[0]))
    return ClipMotion(
        bumps=bumps,
        envelope=envelope(frame_count, clip.apex - clip.onset),
        jitter=sample_head_jitter(rng, frame_count, params.nuisance.head_jitter_px, face_width),
        centre=face.landmarks[30].copy(),  # nose tip: the head turns about the face centre
    )


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
        root = Path(root)
        digest = self.params.digest()
        previous = _read_manifest(root)
        if previous is not None and previous.get("params_digest") == digest:
            hashes = dict(previous["files"])
            stale = [c for c in self.clips if not _clip_intact(root, c, hashes)]
            if not stale and _file_matches(root / SHEET_FILENAME, hashes.get(SHEET_FILENAME)):
                logger.info("Synthetic corpus at %s is intact; nothing to write", root)
                return previous
            logger.info("Synthetic corpus at %s: re-rendering %d damaged clip(s)", root, len(stale))
        else:
            _claim_root(root)
            hashes, stale = {}, list(self.clips)

        faces: dict[int, IdentityFace] = {}
        identities = {s.number: s.identity for s in self.subjects}
        for clip in tqdm(stale, desc="synthetic corpus", unit="clip"):
            if clip.subject not in faces:
                identity = identities[clip.subject]
                faces[clip.subject] = render_identity(identity, self.params.image_size)
            rendered = render_clip(clip, faces[clip.subject], self.params)
            hashes.update(self._write_clip(root, clip, rendered))

        sheet = coding_sheet_bytes(self.sheet_rows())
        _write_atomic(root / SHEET_FILENAME, sheet)
        hashes[SHEET_FILENAME] = _sha256(sheet)
        manifest = {
            "generator": "micro_expression.synthetic",
            "package_version": __version__,
            "params": self.params.to_dict(),
            "seed": self.params.seed,
            "params_digest": digest,
            "counts": self.counts(),
            "files": dict(sorted(hashes.items())),
        }
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        _write_atomic(root / MANIFEST_FILENAME, text.encode())
        return manifest

    @staticmethod
    def _write_clip(root: Path, clip: ClipSpec, rendered: RenderedClip) -> dict[str, str]:
        hashes = {}
        final = root / clip.clip_folder
        partial = final.with_name(f".{final.name}.partial")
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        for number, data in zip(clip.frame_numbers, rendered.frames):
            (partial / f"img{number}.jpg").write_bytes(data)
            hashes[clip.frame_file(number)] = _sha256(data)
        if final.exists():
            shutil.rmtree(final)
        os.rename(partial, final)
        ground_truth = rendered.ground_truth.to_npz_bytes()
        _write_atomic(root / clip.ground_truth_file, ground_truth)
        hashes[clip.ground_truth_file] = _sha256(ground_truth)
        return hashes


def _read_manifest(root: Path) -> dict[str, Any] | None:
    path = root / MANIFEST_FILENAME
    try:
        manifest = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    valid = isinstance(manifest, dict) and isinstance(manifest.get("files"), dict)
    return manifest if valid else None


def _clip_intact(root: Path, clip: ClipSpec, hashes: dict[str, str]) -> bool:
    folder = root / clip.clip_folder
    expected = {f"img{n}.jpg" for n in clip.frame_numbers}
    if not folder.is_dir() or set(os.listdir(folder)) != expected:
        return False
    return all(_file_matches(root / path, hashes.get(path)) for path in clip.files())


def _claim_root(root: Path) -> None:
    """Make ``root`` ready for a fresh corpus, refusing to touch folders that are not ours."""
    root.mkdir(parents=True, exist_ok=True)
    ours = (root / MANIFEST_FILENAME).exists() or (root / MARKER_FILENAME).exists()
    foreign = sorted(set(os.listdir(root)) - ALLOWED_FOREIGN_FILES)
    if foreign and not ours:
        raise FileExistsError(
            f"{root} is not empty and holds no generated corpus ({MANIFEST_FILENAME} missing): "
            f"refusing to overwrite {foreign[:5]}; pick an empty folder"
        )
    for folder in (FRAMES_FOLDER, GROUND_TRUTH_FOLDER):
        shutil.rmtree(root / folder, ignore_errors=True)
    for name in (SHEET_FILENAME, MANIFEST_FILENAME):
        (root / name).unlink(missing_ok=True)
    (root / MARKER_FILENAME).write_text("written by micro_expression.synthetic\n")


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
