"""Checks that decide whether a source clip is usable, and why not when it is not."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from micro_expression.parameters import block_values
from micro_expression.readers.labels import MULTI_LABEL, ClassScheme, dataset_emotions
from micro_expression.readers.records import FrameFile, SourceClip

MAX_RANGES_SHOWN = 10
DEFAULT_MAX_CLIP_FRAMES = 3000
"""Longest plausible clip, onset to offset (15 s at 200 fps; micro-expressions last < 0.5 s)."""


@dataclass(frozen=True)
class IngestionSettings:
    """The ``ingestion`` parameters: what counts as a usable clip, and whether a fault stops
    the run (see conf/base/parameters_ingestion.yml)."""

    strict: bool = False
    max_clip_frames: int = DEFAULT_MAX_CLIP_FRAMES

    def __post_init__(self) -> None:
        if not isinstance(self.strict, bool):
            raise ValueError(f"ingestion.strict must be true or false, got {self.strict!r}")
        if isinstance(self.max_clip_frames, bool) or not isinstance(self.max_clip_frames, int) \
                or self.max_clip_frames < 2:
            raise ValueError(
                f"ingestion.max_clip_frames must be an integer >= 2, got {self.max_clip_frames!r}"
            )

    @classmethod
    def from_params(cls, params: dict) -> IngestionSettings:
        """Build from the ``ingestion`` parameter block; unknown keys are an error."""
        return cls(**block_values(params, "ingestion", cls.__dataclass_fields__))


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


def number_ranges(numbers: list[int], shown: int = MAX_RANGES_SHOWN) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``; past ``shown`` ranges, how many more there are."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return _join_spans(spans, shown)


def _join_spans(spans: list[list[int]], shown: int) -> str:
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans[:shown])
    return text + (f" and {len(spans) - shown} more ranges" if len(spans) > shown else "")


def missing_ranges(present: list[int], first: int, last: int) -> tuple[int, str]:
    """How many numbers of ``first..last`` are not in ``present`` (sorted, unique, within the
    range), and their ranges as text. Arithmetic on the gaps: the work grows with the files
    present, not with the range, so a typo of 10**9 in a sheet costs nothing."""
    spans, expected = [], first
    for n in [*present, last + 1]:
        if n > expected:
            spans.append([expected, n - 1])
        expected = n + 1
    count = sum(b - a + 1 for a, b in spans)
    return count, _join_spans(spans, MAX_RANGES_SHOWN)


def data_faults(clip: SourceClip, max_frames: int = DEFAULT_MAX_CLIP_FRAMES) -> list[str]:
    """What makes the clip's frames unusable; empty when they are usable."""
    if clip.folder is None:
        where = clip.expected_folder or "its folder"
        hint = f" ({clip.folder_hint})" if clip.folder_hint else ""
        return [f"sheet row has no clip folder on disk: looked for {where}{hint}"]
    if not clip.frames:
        return [f"no frame files in {clip.folder}"]
    if clip.onset is None or clip.offset is None or clip.offset < clip.onset:
        return [
            f"onset/offset do not give a frame range (onset={clip.onset}, offset={clip.offset})"
        ]
    span = clip.offset - clip.onset + 1
    if span > max_frames:
        return [
            f"implausible clip length: onset {clip.onset} to offset {clip.offset} spans {span} "
            f"frames, more than ingestion.max_clip_frames={max_frames} (a typo in the sheet?)"
        ]
    frames = clip_frames(clip)
    faults = []
    claimed: dict[int, list[str]] = {}
    for frame in frames:
        claimed.setdefault(frame.number, []).append(Path(frame.path).name)
    for number, names in claimed.items():
        if len(names) > 1:
            faults.append(
                f"frame {number} is claimed by {len(names)} files: {' and '.join(names)} "
                f"(in {clip.folder})"
            )
    count, ranges = missing_ranges(sorted(claimed), clip.onset, clip.offset)
    if count:
        faults.append(
            f"{count} of {span} frames missing between onset {clip.onset} and offset "
            f"{clip.offset}: {ranges} (in {clip.folder})"
        )
    faults += [f"unreadable image {f.path}: {f.error}" for f in frames if f.error]
    sizes = {(f.width, f.height) for f in frames if not f.error}
    if len(sizes) > 1:
        listing = ", ".join(f"{w}x{h}" for w, h in sorted(sizes))
        faults.append(f"frames differ in size ({listing}) in {clip.folder}")
    return faults


def emotion_fault(clip: SourceClip) -> str | None:
    """Why the clip's emotion is not one its dataset codes (blank, misspelt), or None; a
    clip of a :data:`~micro_expression.readers.labels.MULTI_LABEL` dataset may carry several,
    joined with ``+``, each of them known."""
    emotion = clip.emotion.strip().lower()
    known = dataset_emotions(clip.dataset)
    if not emotion:
        return "the emotion cell is blank"
    parts = emotion.split("+") if clip.dataset in MULTI_LABEL else [emotion]
    if any(part.strip() not in known for part in parts):
        return f"unknown emotion {clip.emotion!r}: {clip.dataset} codes {', '.join(known)}"
    return None


def scheme_exclusion(clip: SourceClip, scheme: ClassScheme) -> str | None:
    """Why the scheme leaves the clip's (known) emotion out, or None when it maps to a class."""
    if scheme.label(clip.dataset, clip.emotion) is not None:
        return None
    return (
        f"emotion {clip.emotion!r} is not in the {scheme.name} scheme "
        f"({', '.join(scheme.classes)}): a normal exclusion under the "
        f"{len(scheme.classes)}-class scheme"
    )


def apex_note(clip: SourceClip) -> str | None:
    """Why the sheet's apex is not used (it is then null in the index), or None when it is
    used or the sheet codes none (blank or ``/``, the datasets' own way to say so)."""
    if clip.apex is None:
        cell = clip.apex_cell.strip()
        if cell in ("", "/"):
            return None
        return f"apex cell {cell!r} is not a frame number: apex ignored"
    if clip.onset is not None and clip.offset is not None and not (
        clip.onset <= clip.apex <= clip.offset
    ):
        return (
            f"apex {clip.apex} is outside onset..offset ({clip.onset}..{clip.offset}): "
            "apex ignored"
        )
    return None


def content_hash(frames: list[FrameFile]) -> str:
    """sha256 over the frames' sha256 digests in order: any changed frame changes it."""
    return hashlib.sha256("\n".join(f.sha256 for f in frames).encode()).hexdigest()


def triage(
    clips: tuple[SourceClip, ...],
    scheme: ClassScheme,
    max_frames: int = DEFAULT_MAX_CLIP_FRAMES,
) -> tuple[list[SourceClip], list[Rejection]]:
    """Split clips into usable ones and rejections: repeats of an earlier clip id, clips
    with data faults (an unknown emotion included), and clips whose emotion the scheme
    leaves out (the only rejections with ``by_scheme``)."""
    usable, rejections, first_source = [], [], {}
    for clip in clips:
        if clip.clip_id in first_source:
            reason = f"duplicate clip: already described by {first_source[clip.clip_id]}"
            rejections.append(Rejection(clip.clip_id, clip.source, reason, by_scheme=False))
            continue
        first_source[clip.clip_id] = clip.source
        faults = data_faults(clip, max_frames)
        emotion = emotion_fault(clip)
        faults += [emotion] if emotion else []
        exclusion = None if emotion else scheme_exclusion(clip, scheme)
        if faults or exclusion:
            reason = "; ".join(faults + ([exclusion] if exclusion else []))
            rejections.append(Rejection(clip.clip_id, clip.source, reason, not faults))
        else:
            usable.append(clip)
    return usable, rejections
