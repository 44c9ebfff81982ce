"""Nodes of the preprocessing pipeline."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from micro_expression.preprocessing.cache import ClipCache
from micro_expression.preprocessing.clip import ClipArrays
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.executor import (
    REJECTED,
    ClipOutcome,
    ClipTask,
    run_clips,
)
from micro_expression.preprocessing.keys import content_key, index_digest
from micro_expression.preprocessing.qa import qa_figure
from micro_expression.preprocessing.quality import true_sample_flows

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = (
    "clip_id", "subject", "dataset", "label", "label_id", "frame_paths", "content_hash",
)
INDEX_COLUMNS = (
    "clip_id", "subject", "dataset", "label", "label_id", "file", "content_key", "n_samples",
    "status",
)
REJECTION_COLUMNS = ("clip_id", "stage", "reason")
QUALITY_METRICS = ("flow_epe", "flow_epe_worst_pair", "flow_epe_zero", "landmark_nme")


def preprocess_clips(
    clip_index: pd.DataFrame, clip_cache: ClipCache, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Preprocess every clip, reusing cached results: (index of stored clips, rejections,
    per-clip quality against ground truth where the corpus has some)."""
    config = PreprocessingConfig.from_params(params)
    tasks = _tasks(clip_index, config)
    outcomes = run_clips(tasks, clip_cache, config)
    _log_stage_seconds(outcomes)

    rows = clip_index.set_index("clip_id")
    kept = [o for o in outcomes if o.status != REJECTED]
    rejected = [o for o in outcomes if o.status == REJECTED]
    if not kept:
        examples = "; ".join(f"{o.clip_id}: {o.stage}: {o.reason}" for o in rejected[:3])
        raise ValueError(
            f"no clip survived preprocessing ({len(rejected)} rejected), e.g. {examples}"
        )
    index = pd.DataFrame(
        [
            {
                **{c: rows.at[o.clip_id, c] for c in ("subject", "dataset", "label", "label_id")},
                "clip_id": o.clip_id,
                "file": str(clip_cache.path_for(o.key)),
                "content_key": o.key,
                "n_samples": o.n_samples,
                "status": o.status,
            }
            for o in kept
        ],
        columns=INDEX_COLUMNS,
    )
    rejections = pd.DataFrame(
        [(o.clip_id, o.stage, o.reason) for o in rejected], columns=REJECTION_COLUMNS, dtype=str
    )
    for o in rejected:
        logger.warning("rejected %s at %s: %s", o.clip_id, o.stage, o.reason)
    quality = pd.DataFrame(
        [
            {"clip_id": o.clip_id, "dataset": rows.at[o.clip_id, "dataset"],
             "subject": rows.at[o.clip_id, "subject"], "alignment": config.alignment, **o.quality}
            for o in kept
            if o.quality
        ],
        columns=("clip_id", "dataset", "subject", "alignment", *QUALITY_METRICS),
    )
    logger.info(
        "preprocessing: %d clips stored (%d computed, %d cached), %d rejected",
        len(index), (index["status"] == "computed").sum(), (index["status"] == "cached").sum(),
        len(rejections),
    )
    return index, rejections, quality


def summarise_quality(quality: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean and median of each quality measure, as MLflow metrics; logs them as a table."""
    if quality.empty:
        logger.info(
            "preprocessing quality skipped: no clip has ground truth (real datasets have none)"
        )
        return {}
    summary = quality[list(QUALITY_METRICS)].agg(["mean", "median"])
    logger.info(
        "preprocessing quality on %d clips with ground truth (flow EPE in crop px, landmark "
        "error / inter-ocular distance):\n%s",
        len(quality), summary.T.to_string(float_format="{:.4f}".format),
    )
    metrics = {
        f"{measure}.{statistic}": {"value": float(summary.at[statistic, measure]), "step": 0}
        for measure in QUALITY_METRICS
        for statistic in ("mean", "median")
    }
    metrics["clips_with_truth"] = {"value": float(len(quality)), "step": 0}
    return metrics


def render_qa_figures(
    clip_index: pd.DataFrame,
    preprocessed_index: pd.DataFrame,
    clip_cache: ClipCache,
    qa_clips: int,
) -> dict[str, Figure]:
    """QA images (frames with landmarks, TV-L1 vs true flow) for the first ``qa_clips`` clips."""
    frame_paths = clip_index.set_index("clip_id")["frame_paths"]
    figures = {}
    for row in preprocessed_index.sort_values("clip_id").head(qa_clips).itertuples():
        arrays = ClipArrays.from_dict(clip_cache.read(row.content_key))
        paths = [str(path) for path in frame_paths[row.clip_id]]
        name = re.sub(r"[^0-9A-Za-z_.-]+", "_", row.clip_id)
        figures[f"{name}.png"] = qa_figure(row.clip_id, arrays, true_sample_flows(paths, arrays))
    return figures


def digest_preprocessed_index(preprocessed_index: pd.DataFrame) -> dict[str, Any]:
    """sha256 over the sorted content keys (for a lineage tag) and the clip count."""
    return {
        "preprocessed_keys_digest": index_digest(preprocessed_index["content_key"]),
        "n_clips": len(preprocessed_index),
    }


def _tasks(clip_index: pd.DataFrame, config: PreprocessingConfig) -> list[ClipTask]:
    missing = [c for c in REQUIRED_COLUMNS if c not in clip_index.columns]
    if missing:
        raise ValueError(f"clip_index lacks columns {missing}; has {list(clip_index.columns)}")
    if clip_index.empty:
        raise ValueError("clip_index is empty: nothing to preprocess")
    tasks = []
    for row in clip_index.itertuples(index=False):
        key = content_key(row.content_hash, config)
        meta = {
            "clip_id": row.clip_id,
            "subject": row.subject,
            "dataset": row.dataset,
            "label": _plain(row.label),
            "label_id": _plain(row.label_id),
            "content_key": key,
            "alignment": config.alignment,
            "sampling": config.sampling,
        }
        tasks.append(ClipTask(row.clip_id, tuple(str(p) for p in row.frame_paths), key, meta))
    return tasks


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: numpy numbers as Python ones, missing values as None."""
    if value is None or (np.isscalar(value) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _log_stage_seconds(outcomes: list[ClipOutcome]) -> None:
    totals: dict[str, float] = defaultdict(float)
    for outcome in outcomes:
        for stage, seconds in outcome.seconds.items():
            totals[stage] += seconds
    if totals:
        logger.info(
            "preprocessing worker seconds per stage: %s",
            ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in totals.items()),
        )
