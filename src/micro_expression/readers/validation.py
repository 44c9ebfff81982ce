"""Checks that decide whether a source clip is usable, and why not when it is not."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from micro_expression.readers.labels import ClassScheme
from micro_expression.readers.records import FrameFile, SourceClip


@dataclass(frozen=True)
class Rejection:
    """A clip left out of the index; ``by_scheme`` marks a normal exclusion (an emotion the
    class scheme does not use) as opposed to a fault in the data."""

    clip_id: str
    source: str
    reason: str
    by_scheme: bool


def clip_frames(clip: SourceClip) -> list[FrameFile]:
    """The clip's frame files from onset to offset, in order."""
    return [f for f in clip.frames if clip.onset <= f.number <= clip.offset]


def number_ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def data_faults(clip: SourceClip) -> list[str]:
    """What makes the clip's frames unusable; empty when they are usable."""
    if clip.folder is None:
        return ["sheet row has no clip folder on disk"]
    if not clip.frames:
        return [f"no frame files in {clip.folder}"]
    if clip.onset is None or clip.offset is None or clip.offset < clip.onset:
        return [
            f"onset/offset do not give a frame range (onset={clip.onset}, offset={clip.offset})"
        ]
    frames = clip_frames(clip)
    faults = []
    missing = sorted(set(range(clip.onset, clip.offset + 1)) - {f.number for f in frames})
    if missing:
        faults.append(
            f"frames missing between onset {clip.onset} and offset {clip.offset}: "
            f"{number_ranges(missing)} (in {clip.folder})"
        )
    faults += [f"unreadable image {f.path}: {f.error}" for f in frames if f.error]
    return faults


def scheme_exclusion(clip: SourceClip, scheme: ClassScheme) -> str | None:
    """Why the scheme leaves the clip's emotion out, or None when it maps to a class."""
    if scheme.label(clip.dataset, clip.emotion) is not None:
        return None
    return (
        f"emotion {clip.emotion!r} is not in the {scheme.name} scheme "
        f"({', '.join(scheme.classes)}): a normal exclusion under the "
        f"{len(scheme.classes)}-class scheme"
    )


def content_hash(frames: list[FrameFile]) -> str:
    """sha256 over the frames' sha256 digests in order: any changed frame changes it."""
    return hashlib.sha256("\n".join(f.sha256 for f in frames).encode()).hexdigest()


def triage(
    clips: tuple[SourceClip, ...], scheme: ClassScheme
) -> tuple[list[SourceClip], list[Rejection]]:
    """Split clips into usable ones and rejections: repeats of an earlier clip id, clips
    with data faults, and clips whose emotion the scheme leaves out."""
    usable, rejections, first_source = [], [], {}
    for clip in clips:
        if clip.clip_id in first_source:
            reason = f"duplicate clip: already described by {first_source[clip.clip_id]}"
            rejections.append(Rejection(clip.clip_id, clip.source, reason, by_scheme=False))
            continue
        first_source[clip.clip_id] = clip.source
        faults = data_faults(clip)
        exclusion = scheme_exclusion(clip, scheme)
        if faults or exclusion:
            reason = "; ".join(faults + ([exclusion] if exclusion else []))
            rejections.append(Rejection(clip.clip_id, clip.source, reason, not faults))
        else:
            usable.append(clip)
    return usable, rejections
