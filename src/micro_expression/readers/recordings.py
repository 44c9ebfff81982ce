"""New recordings to score: a folder of frames, a video file, or a dataset root.

Each becomes one or more :class:`Recording`: ordered frame files with their digests, or a
video file with its digest, which is decoded only as it is scored (streamed in windows, see
:mod:`micro_expression.inference.stream`). What cannot be used is reported as a
:class:`Problem` with its reason, never dropped in silence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from micro_expression.readers import read_source
from micro_expression.readers.images import (
    dangling_link_reason,
    inspect_frame,
    oversize_reason,
    special_file_reason,
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm")
DATASETS = ("casme2", "samm", "smic", "casme3", "mmew", "4dme")
"""Layouts a dataset root may have, tried in this order by ``dataset="auto"``."""
_TRAILING_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class Recording:
    """Frames of one clip or video, in order; ``first_frame`` numbers the first of them."""

    recording_id: str
    source: str
    frame_paths: tuple[str, ...]
    frame_digests: tuple[str, ...]
    fps: float | None = None
    first_frame: int = 0
    apex: int | None = None
    label: str | None = None
    video_sha256: str | None = None
    """Set for a video file (``source``), which has no frame files: it is decoded as it is
    scored."""

    @property
    def is_video(self) -> bool:
        return self.video_sha256 is not None

    @property
    def content_hash(self) -> str:
        """sha256 over the frames' digests, as ingestion computes a clip's; a video's own."""
        if self.video_sha256 is not None:
            return self.video_sha256
        return hashlib.sha256("\n".join(self.frame_digests).encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """A recording (or a path) that cannot be scored, and why."""

    recording_id: str
    source: str
    reason: str


@dataclass(frozen=True)
class Recordings:
    """What a source holds: usable recordings and the problems found on the way."""

    source: str
    recordings: tuple[Recording, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def frame_files(folder: Path) -> list[Path]:
    """Image files of ``folder`` in numeric order of their names' trailing digits."""
    images = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]

    def number(path: Path) -> tuple[int, str]:
        match = _TRAILING_NUMBER.search(path.stem)
        return (int(match.group(1)) if match else -1, path.name)

    return sorted(images, key=number)


def folder_recording(folder: Path, recording_id: str | None = None) -> Recording | Problem:
    """A frame folder as one recording; unreadable frames make it a problem."""
    recording_id = recording_id or folder.name
    files = frame_files(folder)
    if not files:
        return Problem(recording_id, str(folder), f"no image files in {folder}")
    inspected = [inspect_frame(path, n) for n, path in enumerate(files)]
    bad = [f for f in inspected if f.error]
    if bad:
        listing = "; ".join(f"{Path(f.path).name}: {f.error}" for f in bad[:3])
        return Problem(recording_id, str(folder), f"{len(bad)} unreadable frames ({listing})")
    first = _TRAILING_NUMBER.search(files[0].stem)
    return Recording(
        recording_id=recording_id,
        source=str(folder),
        frame_paths=tuple(str(p) for p in files),
        frame_digests=tuple(f.sha256 for f in inspected),
        first_frame=int(first.group(1)) if first else 0,
    )


def video_recording(video: Path) -> Recording | Problem:
    """A video file as one recording, read when it is scored (never written out as frames
    here); a file OpenCV cannot open, or whose frames are larger than
    :data:`~micro_expression.readers.images.MAX_FRAME_PIXELS`, is a problem."""
    with open(video, "rb") as stream:  # in chunks: memory stays flat whatever the file's size
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    capture = cv2.VideoCapture(str(video))
    try:
        if not capture.isOpened():
            return Problem(video.name, str(video), f"OpenCV cannot open {video} as a video")
        fps = capture.get(cv2.CAP_PROP_FPS) or None
        pixels = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) * capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    if too_large := oversize_reason(pixels):
        return Problem(video.name, str(video), f"{video}: {too_large}")
    return Recording(recording_id=video.name, source=str(video), frame_paths=(),
                     frame_digests=(), fps=fps, first_frame=1, video_sha256=digest)


def decode_video(video: Path, folder: Path, max_frames: int | None = None) -> list[str]:
    """Every frame of ``video`` written to ``folder`` as a lossless grey PNG (as the streamed
    windows see it, so both routes score the same pixels), in order. Raises ``ValueError``
    when no frame decodes, or before decoding frame ``max_frames + 1``."""
    folder.mkdir(parents=True, exist_ok=True)
    capture = cv2.VideoCapture(str(video))
    paths: list[str] = []
    try:
        while True:
            decoded, image = capture.read()
            if not decoded:
                break
            if max_frames is not None and len(paths) == max_frames:
                raise ValueError(f"{video} has more than the {max_frames} frames allowed")
            path = folder / f"frame_{len(paths) + 1:06d}.png"
            cv2.imwrite(str(path), gray_frame(image))
            paths.append(str(path))
    finally:
        capture.release()
    if not paths:
        raise ValueError(f"no frame could be decoded from {video}")
    return paths


def gray_frame(image: np.ndarray) -> np.ndarray:
    """A decoded video frame as 8-bit grey levels."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def dataset_recordings(root: Path, dataset: str) -> Recordings:
    """Every clip of a dataset root (onset..offset, with the sheet's apex and label) in the
    layout ``dataset``, or the first layout of :data:`DATASETS` that reads with ``auto``."""
    names = DATASETS if dataset == "auto" else (dataset,)
    errors = []
    for name in names:
        try:
            raw = read_source(name, root)
        except (FileNotFoundError, ValueError) as error:
            errors.append(f"{name}: {error}")
            continue
        return Recordings(str(root), *_split_clips(raw.clips))
    raise ValueError(
        f"{root} is neither a frame folder, a video nor a dataset root it can read ("
        + "; ".join(errors) + ")"
    )


def _split_clips(clips: Iterable) -> tuple[tuple[Recording, ...], tuple[Problem, ...]]:
    recordings, problems = [], []
    for clip in clips:
        frames = [f for f in clip.frames
                  if clip.onset is not None and clip.offset is not None
                  and clip.onset <= f.number <= clip.offset]
        bad = [f for f in frames if f.error]
        if not frames or bad:
            reason = f"unreadable frame {bad[0].path}: {bad[0].error}" if bad else (
                f"no frames between onset {clip.onset} and offset {clip.offset} "
                f"in {clip.folder or clip.expected_folder}"
            )
            problems.append(Problem(clip.clip_id, clip.source, reason))
            continue
        recordings.append(Recording(
            recording_id=clip.clip_id, source=clip.source,
            frame_paths=tuple(f.path for f in frames),
            frame_digests=tuple(f.sha256 for f in frames),
            fps=clip.fps, first_frame=frames[0].number, apex=clip.apex, label=clip.emotion,
        ))
    return tuple(recordings), tuple(problems)


def discover(
    path: str | Path | None, dataset: str = "auto", called: str = "inference.source",
) -> Recordings:
    """The recordings at ``path``: a video file, a folder of frames, or a dataset root.

    Raises when ``path`` is unset, does not exist, is a link that leads nowhere or a special
    file, naming it as ``called`` (what the user set); a path that holds nothing usable is for
    the caller to refuse (it has the problems).
    """
    if path is None or str(path).strip() == "":
        raise ValueError(
            "inference.source is not set: `kedro run --pipelines inference --params "
            "inference.source=PATH` (a frame folder, a video file or a dataset root)"
        )
    source = Path(path).expanduser().absolute()
    if source.is_symlink() and not source.exists():
        raise ValueError(f"{called} {source}: {dangling_link_reason(source)}")
    if not source.exists():
        raise FileNotFoundError(f"{called} {source} does not exist")
    if not source.is_dir() and (special := special_file_reason(source)):
        raise ValueError(f"{called} {source} is {special}: "
                         "give a frame folder, a video file or a dataset root")
    if source.is_file():
        found = video_recording(source)
    elif frame_files(source):
        found = folder_recording(source)
    else:
        return dataset_recordings(source, dataset)
    if isinstance(found, Problem):
        return Recordings(str(source), problems=(found,))
    return Recordings(str(source), recordings=(found,))
