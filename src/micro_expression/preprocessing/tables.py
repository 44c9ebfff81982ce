"""From the clip index to clip tasks, and from clip outcomes to the output tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from micro_expression.io.clip_cache import ClipCache
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.executor import REJECTED, ClipOutcome, ClipTask
from micro_expression.preprocessing.keys import content_key

REQUIRED_COLUMNS = (
    "clip_id", "subject", "dataset", "label", "label_id", "frame_paths", "content_hash",
    "ground_truth_path",
)
INDEX_COLUMNS = (
    "clip_id", "subject", "dataset", "label", "label_id", "file", "content_key", "n_samples",
    "status",
)
REJECTION_COLUMNS = ("clip_id", "stage", "reason")
QUALITY_METRICS = (
    "flow_epe", "flow_epe_worst_pair", "flow_epe_zero", "expression_epe", "expression_epe_zero",
    "rigid_residual_px", "rigid_residual_px_worst_frame", "landmark_nme",
)
QUALITY_COLUMNS = (
    "clip_id", "dataset", "subject", "alignment", "stabilisation", *QUALITY_METRICS
)


def clip_tasks(clip_index: pd.DataFrame, config: PreprocessingConfig) -> list[ClipTask]:
    """One task per clip-index row, keyed by its frames' hash and the output settings (the
    ground-truth location is not part of the key: it only says where to measure quality)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in clip_index.columns]
    if missing:
        # A clip index written by an older version of the ingestion pipeline, most likely.
        raise ValueError(
            f"clip_index lacks columns {missing}; has {list(clip_index.columns)}: rerun "
            "`kedro run --pipelines ingestion` to rebuild it"
        )
    if clip_index.empty:
        raise ValueError("clip_index is empty: nothing to preprocess")
    tasks = []
    apexes = clip_index["apex"] if "apex" in clip_index.columns else [None] * len(clip_index)
    for row, apex in zip(clip_index.itertuples(index=False), apexes):
        apex = None if pd.isna(apex) else int(apex)
        key = content_key(row.content_hash, config, apex)
        meta = {
            "clip_id": row.clip_id,
            "subject": row.subject,
            "dataset": row.dataset,
            "label": _plain(row.label),
            "label_id": _plain(row.label_id),
            "content_key": key,
            "alignment": config.alignment,
            "sampling": config.sampling,
            "sheet_apex": apex,
        }
        paths = tuple(str(p) for p in row.frame_paths)
        truth = optional_path(row.ground_truth_path)
        tasks.append(ClipTask(row.clip_id, paths, key, meta, apex, truth))
    return tasks


def index_table(
    outcomes: Sequence[ClipOutcome], clip_index: pd.DataFrame, cache: ClipCache
) -> pd.DataFrame:
    """One row per stored clip; raises when every clip was rejected."""
    kept = [o for o in outcomes if o.status != REJECTED]
    if not kept:
        rejected = [o for o in outcomes if o.status == REJECTED]
        examples = "; ".join(f"{o.clip_id}: {o.stage}: {o.reason}" for o in rejected[:3])
        raise ValueError(
            f"no clip survived preprocessing ({len(rejected)} rejected), e.g. {examples}"
        )
    rows = clip_index.set_index("clip_id")
    return pd.DataFrame(
        [
            {
                **{c: rows.at[o.clip_id, c] for c in ("subject", "dataset", "label", "label_id")},
                "clip_id": o.clip_id,
                "file": str(cache.path_for(o.key)),
                "content_key": o.key,
                "n_samples": o.n_samples,
                "status": o.status,
            }
            for o in kept
        ],
        columns=INDEX_COLUMNS,
    )


def rejection_table(outcomes: Sequence[ClipOutcome]) -> pd.DataFrame:
    """One row per rejected clip: the stage that refused it and why."""
    return pd.DataFrame(
        [(o.clip_id, o.stage, o.reason) for o in outcomes if o.status == REJECTED],
        columns=REJECTION_COLUMNS,
        dtype=str,
    )


def quality_table(
    outcomes: Sequence[ClipOutcome], clip_index: pd.DataFrame, config: PreprocessingConfig
) -> pd.DataFrame:
    """One row per stored clip that has ground truth, with its flow and landmark errors."""
    rows = clip_index.set_index("clip_id")
    return pd.DataFrame(
        [
            {
                "clip_id": o.clip_id,
                "dataset": rows.at[o.clip_id, "dataset"],
                "subject": rows.at[o.clip_id, "subject"],
                "alignment": config.alignment,
                "stabilisation": config.stabilisation,
                **o.quality,
            }
            for o in outcomes
            if o.status != REJECTED and o.quality
        ],
        columns=QUALITY_COLUMNS,
    )


def stage_seconds(outcomes: Sequence[ClipOutcome]) -> dict[str, float]:
    """Worker seconds per stage, summed over the clips computed in this run."""
    totals: dict[str, float] = {}
    for outcome in outcomes:
        for stage, seconds in outcome.seconds.items():
            totals[stage] = totals.get(stage, 0.0) + seconds
    return totals


def optional_path(value: Any) -> str | None:
    """A clip-index path cell (``ground_truth_path``) as a string, None where it is null."""
    return None if value is None or pd.isna(value) else str(value)


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: numpy numbers as Python ones, missing values as None."""
    if value is None or (np.isscalar(value) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
