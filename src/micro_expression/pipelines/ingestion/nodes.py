"""Ingestion nodes: validate and label the clips a dataset describes."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pandas as pd

from micro_expression.lineage import table_digest
from micro_expression.readers import ClassScheme, RawDataset, SourceClip, scheme_for
from micro_expression.readers.validation import (
    IngestionSettings,
    Rejection,
    apex_note,
    clip_frames,
    content_hash,
    triage,
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
    "frame_width",
    "frame_height",
    "apex_note",
    "ground_truth_path",
]
# Where files are, not what they hold: left out of the ingestion id.
LOCATION_COLUMNS = ("frame_paths", "ground_truth_path")
REJECTED_COLUMNS = ["clip_id", "source", "reason", "kind"]
DATA_FAULT, SCHEME_EXCLUSION = "data fault", "scheme exclusion"
INGESTION_ID = "ingestion_id"
"""Key of both tables' ``attrs``: one id per ingestion result, so they are saved as a pair."""


def build_clip_index(
    raw_dataset: RawDataset, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per usable clip (labelled with the dataset's class scheme), and one row per
    rejected clip with its reason and kind (data fault or scheme exclusion).

    Both tables carry the same :data:`INGESTION_ID` in ``attrs`` (a digest of their content),
    which lets the catalog replace them together or not at all. Whether the result is good
    enough to go on is :func:`check_clip_index`'s call, after both are saved.
    """
    settings = IngestionSettings.from_params(params)
    scheme = scheme_for(raw_dataset.name, raw_dataset.classes)
    usable, rejections = triage(raw_dataset.clips, scheme, settings.max_clip_frames)
    logger.info(
        "%s: %d clips indexed, %d rejected (%d excluded by the %s scheme)",
        raw_dataset.name,
        len(usable),
        len(rejections),
        sum(r.by_scheme for r in rejections),
        scheme.name,
    )
    index, rejected = _clip_index_frame(usable, scheme), _rejected_frame(rejections)
    stamp = ingestion_id(index, rejected)
    index.attrs[INGESTION_ID] = rejected.attrs[INGESTION_ID] = stamp
    return index, rejected


def ingestion_id(clip_index: pd.DataFrame, rejected_clips: pd.DataFrame) -> str:
    """sha256 over both tables' content: the same dataset and settings give the same id."""
    parts = [
        table_digest(clip_index, [c for c in CLIP_INDEX_COLUMNS if c not in LOCATION_COLUMNS],
                     key="clip_id"),
        table_digest(rejected_clips, REJECTED_COLUMNS, key="clip_id"),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def check_clip_index(
    clip_index: pd.DataFrame, rejected_clips: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """Stop the run when no clip is usable, or when ``ingestion.strict`` is set and a clip has a
    data fault; both tables are already saved then, so the error points at them. Otherwise a
    summary: counts per label and per rejection kind (``ingestion_summary``)."""
    faults = rejected_clips[rejected_clips["kind"] == DATA_FAULT]
    where = (
        "the `rejected_clips` table of this run (data/02_intermediate/rejected_clips.parquet "
        "with the default catalog, and the run's MLflow artifacts)"
    )
    if clip_index.empty:
        examples = "; ".join(
            f"{r.clip_id}: {r.reason}" for r in rejected_clips.head(3).itertuples()
        )
        raise ValueError(
            f"No usable clip: all {len(rejected_clips)} clips were rejected, e.g. {examples}. "
            f"Every reason is in {where}."
        )
    if IngestionSettings.from_params(params).strict and not faults.empty:
        listing = "\n".join(f"  {r.clip_id} ({r.source}): {r.reason}" for r in faults.itertuples())
        raise ValueError(
            f"ingestion.strict is set and {len(faults)} clips have data faults:\n{listing}\n"
            f"They are in {where}."
        )
    return {
        INGESTION_ID: clip_index.attrs.get(INGESTION_ID),
        "clips": len(clip_index),
        "subjects": int(clip_index["subject"].nunique()),
        "labels": {str(k): int(v) for k, v in clip_index["label"].value_counts().items()},
        "rejected": {str(k): int(v) for k, v in rejected_clips["kind"].value_counts().items()},
        "apex_ignored": int(clip_index["apex_note"].notna().sum()),
    }


def _index_row(clip: SourceClip, scheme: ClassScheme) -> dict[str, Any]:
    frames = clip_frames(clip)
    label = scheme.label(clip.dataset, clip.emotion)
    note = apex_note(clip)
    return {
        "dataset": clip.dataset,
        "subject": clip.subject,
        "clip_id": clip.clip_id,
        "frame_paths": [f.path for f in frames],
        "n_frames": len(frames),
        "onset": clip.onset,
        "apex": None if note else clip.apex,
        "offset": clip.offset,
        "emotion": clip.emotion,
        "label": label,
        "label_id": scheme.label_id(label),
        "content_hash": content_hash(frames),
        "fps": clip.fps,
        "frame_width": frames[0].width,
        "frame_height": frames[0].height,
        "apex_note": note,
        "ground_truth_path": clip.ground_truth,
    }


def _clip_index_frame(clips: list[SourceClip], scheme: ClassScheme) -> pd.DataFrame:
    index = pd.DataFrame([_index_row(c, scheme) for c in clips], columns=CLIP_INDEX_COLUMNS)
    integer_columns = ["n_frames", "onset", "offset", "label_id", "frame_width", "frame_height"]
    index = index.astype({
        **dict.fromkeys(integer_columns, "int64"), "apex": "Int64", "apex_note": "string",
        "ground_truth_path": "string",
    })
    index["fps"] = index["fps"].astype("float64")
    return index.sort_values("clip_id", kind="stable", ignore_index=True)


def _rejected_frame(rejections: list[Rejection]) -> pd.DataFrame:
    table = pd.DataFrame(
        [
            (r.clip_id, r.source, r.reason, SCHEME_EXCLUSION if r.by_scheme else DATA_FAULT)
            for r in rejections
        ],
        columns=REJECTED_COLUMNS,
    ).astype("str")
    return table.sort_values("clip_id", kind="stable", ignore_index=True)
