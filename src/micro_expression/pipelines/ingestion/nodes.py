"""Ingestion nodes: validate and label the clips a dataset describes."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from micro_expression.readers import ClassScheme, RawDataset, SourceClip, scheme_for
from micro_expression.readers.validation import Rejection, clip_frames, content_hash, triage

logger = logging.getLogger(__name__)

CLIP_INDEX_COLUMNS = [
    "dataset",
    "subject",
    "clip_id",
    "frame_paths",
    "n_frames",
    "onset",
    "apex",
    "offset",
    "emotion",
    "label",
    "label_id",
    "content_hash",
    "fps",
]
REJECTED_COLUMNS = ["clip_id", "source", "reason"]


def build_clip_index(
    raw_dataset: RawDataset, dataset: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per usable clip (labelled under ``dataset.classes``), and one row per rejected
    clip with its reason; ``dataset.strict`` turns any data fault into an error."""
    if dataset.get("name", raw_dataset.name) != raw_dataset.name:
        raise ValueError(
            f"parameters say dataset.name={dataset['name']!r} but raw_dataset was read as "
            f"{raw_dataset.name!r}: set both through `--params dataset.name=...`"
        )
    scheme = scheme_for(raw_dataset.name, dataset["classes"])
    usable, rejections = triage(raw_dataset.clips, scheme)
    faults = [r for r in rejections if not r.by_scheme]
    if dataset.get("strict", False) and faults:
        listing = "\n".join(f"  {r.clip_id} ({r.source}): {r.reason}" for r in faults)
        raise ValueError(
            f"dataset.strict is set and {len(faults)} clips have data faults:\n{listing}"
        )
    if not usable:
        example = f", e.g. {rejections[0].reason}" if rejections else ""
        raise ValueError(
            f"No usable clip in dataset {raw_dataset.name!r} at {raw_dataset.roots}: "
            f"all {len(rejections)} clips were rejected{example}"
        )
    logger.info(
        "%s: %d clips indexed, %d rejected (%d excluded by the %s scheme)",
        raw_dataset.name,
        len(usable),
        len(rejections),
        len(rejections) - len(faults),
        scheme.name,
    )
    return _clip_index_frame(usable, scheme), _rejected_frame(rejections)


def _index_row(clip: SourceClip, scheme: ClassScheme) -> dict[str, Any]:
    frames = clip_frames(clip)
    label = scheme.label(clip.dataset, clip.emotion)
    return {
        "dataset": clip.dataset,
        "subject": clip.subject,
        "clip_id": clip.clip_id,
        "frame_paths": [f.path for f in frames],
        "n_frames": len(frames),
        "onset": clip.onset,
        "apex": clip.apex,
        "offset": clip.offset,
        "emotion": clip.emotion,
        "label": label,
        "label_id": scheme.label_id(label),
        "content_hash": content_hash(frames),
        "fps": clip.fps,
    }


def _clip_index_frame(clips: list[SourceClip], scheme: ClassScheme) -> pd.DataFrame:
    index = pd.DataFrame([_index_row(c, scheme) for c in clips], columns=CLIP_INDEX_COLUMNS)
    integer_columns = ["n_frames", "onset", "offset", "label_id"]
    index = index.astype({**dict.fromkeys(integer_columns, "int64"), "apex": "Int64"})
    index["fps"] = index["fps"].astype("float64")
    return index.sort_values("clip_id", kind="stable", ignore_index=True)


def _rejected_frame(rejections: list[Rejection]) -> pd.DataFrame:
    table = pd.DataFrame(
        [(r.clip_id, r.source, r.reason) for r in rejections], columns=REJECTED_COLUMNS
    ).astype("str")
    return table.sort_values("clip_id", kind="stable", ignore_index=True)
