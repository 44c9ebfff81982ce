"""New recordings to score: a folder of frames, a video file, or a dataset root.

Each becomes one or more :class:`Recording` (ordered frame files with their digests). A video
is decoded once into lossless PNG frames in a folder named by the video's content digest, so
the rest of the chain (and its cache) works on frame files as in training. What cannot be
used is reported as a :class:`Problem` with its reason, never dropped in silence.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from micro_expression.readers import read_source
from micro_expression.readers.images import (
    dangling_link_reason,
    inspect_frame,
    oversize_reason,
    special_file_reason,
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm")
DATASETS = ("casme2", "samm", "smic", "casme3", "mmew")
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

    @property
    def content_hash(self) -> str:
        """sha256 over the frames' digests, as ingestion computes a clip's."""
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


def video_recording(
    video: Path, frames_cache: Path, max_frames: int | None = None
) -> Recording | Problem:
    """A video decoded into ``frames_cache/<sha256 of the file>/frame_<n>.png`` (reused when
    already there); a file OpenCV cannot decode, frames larger than
    :data:`~micro_expression.readers.images.MAX_FRAME_PIXELS` or more than ``max_frames``
    frames make it a problem."""
    with open(video, "rb") as stream:  # in chunks: memory stays flat whatever the file's size
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    folder = frames_cache / digest
    done = folder / "complete"
    capture = cv2.VideoCapture(str(video))
    try:
        if not capture.isOpened():
            return Problem(video.name, str(video), f"OpenCV cannot open {video} as a video")
        fps = capture.get(cv2.CAP_PROP_FPS) or None
        pixels = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) * capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if too_large := oversize_reason(pixels):
            return Problem(video.name, str(video), f"{video}: {too_large}")
        if not done.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            count = 0
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                count += 1
                if max_frames is not None and count > max_frames:
                    return Problem(video.name, str(video),
                                   f"{video} has more than the {max_frames} frames allowed")
                cv2.imwrite(str(folder / f"frame_{count:06d}.png"), frame)
            if count == 0:
                return Problem(video.name, str(video), f"no frame could be decoded from {video}")
            done.write_text(f"{count}\n")
        elif max_frames is not None and int(done.read_text()) > max_frames:
            return Problem(video.name, str(video),
                           f"{video} has more than the {max_frames} frames allowed")
        else:
            done.touch()  # used now: the last to go when the cache is pruned
    finally:
        capture.release()
    decoded = folder_recording(folder, video.name)
    if isinstance(decoded, Problem):
        return Problem(video.name, str(video), decoded.reason)
    return Recording(
        recording_id=video.name, source=str(video), frame_paths=decoded.frame_paths,
        frame_digests=decoded.frame_digests, fps=fps, first_frame=1,
    )


def prune_frames_cache(frames_cache: Path, keep: Iterable[str], max_bytes: int) -> list[str]:
    """Remove decoded videos from ``frames_cache`` until it holds at most ``max_bytes``:
    unfinished decodes first (a run killed while decoding), then the least recently used;
    the folders named in ``keep`` stay whatever their size. Returns the removed names."""
    if not frames_cache.is_dir():
        return []
    keep = set(keep)
    sizes = {f: sum(p.stat().st_size for p in f.iterdir())
             for f in frames_cache.iterdir() if f.is_dir()}
    total = sum(sizes.values())
    folders = [f for f in sizes if f.name not in keep]

    def age(folder: Path) -> tuple[bool, float]:
        done = folder / "complete"
        return (done.is_file(), done.stat().st_mtime if done.is_file() else 0.0)

    removed = []
    for folder in sorted(folders, key=age):
        finished, _ = age(folder)
        if total <= max_bytes and finished:
            break
        shutil.rmtree(folder)
        total -= sizes[folder]
        removed.append(folder.name)
    return removed


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
    path: str | Path | None, frames_cache: str | Path, dataset: str = "auto",
    max_video_frames: int | None = None, called: str = "inference.source",
) -> Recordings:
    """The recordings at ``path``: a video file (of at most ``max_video_frames`` frames), a
    folder of frames, or a dataset root.

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
        found = video_recording(source, Path(frames_cache), max_video_frames)
    elif frame_files(source):
        found = folder_recording(source)
    else:
        return dataset_recordings(source, dataset)
    if isinstance(found, Problem):
        return Recordings(str(source), problems=(found,))
    return Recordings(str(source), recordings=(found,))
