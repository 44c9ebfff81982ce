"""Ingestion nodes: validate and label the clips a dataset describes."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from micro_expression.readers import RawDataset, scheme_for
from micro_expression.readers.validation import (
    Rejection,
    clip_frames,
    content_hash,
    data_faults,
    scheme_exclusion,
)

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
    rows, rejections, first_source = [], [], {}
    for clip in raw_dataset.clips:
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
            continue
        frames = clip_frames(clip)
        label = scheme.label(clip.dataset, clip.emotion)
        rows.append(
            {
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
        )
    _check_rejections(rejections, strict=bool(dataset.get("strict", False)))
    if not rows:
        raise ValueError(
            f"No usable clip in dataset {raw_dataset.name!r} at {raw_dataset.roots}: "
            f"all {len(rejections)} clips were rejected, e.g. {rejections[0].reason if rejections else '-'}"
        )
    logger.info(
        "%s: %d clips indexed, %d rejected (%d by the %s scheme)",
        raw_dataset.name,
        len(rows),
        len(rejections),
        sum(r.by_scheme for r in rejections),
        scheme.name,
    )
    return _clip_index_frame(rows), _rejected_frame(rejections)


def _check_rejections(rejections: list[Rejection], strict: bool) -> None:
    faults = [r for r in rejections if not r.by_scheme]
    if strict and faults:
        listing = "\n".join(f"  {r.clip_id} ({r.source}): {r.reason}" for r in faults)
        raise ValueError(
            f"dataset.strict is set and {len(faults)} clips have data faults:\n{listing}"
        )


def _clip_index_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    index = pd.DataFrame(rows, columns=CLIP_INDEX_COLUMNS)
    index = index.astype(
        {"n_frames": "int64", "onset": "int64", "apex": "Int64", "offset": "int64",
         "label_id": "int64", "fps": "float64"}
    )
    return index.sort_values("clip_id", kind="stable", ignore_index=True)


def _rejected_frame(rejections: list[Rejection]) -> pd.DataFrame:
    table = pd.DataFrame(
        [(r.clip_id, r.source, r.reason) for r in rejections], columns=REJECTED_COLUMNS
    ).astype("str")
    return table.sort_values("clip_id", kind="stable", ignore_index=True)
