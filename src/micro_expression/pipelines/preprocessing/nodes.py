"""Nodes of the preprocessing pipeline."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from micro_expression.io.clip_cache import ClipArrays, ClipCache
from micro_expression.preprocessing.clip import unstabilised_crops
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.executor import run_clips
from micro_expression.preprocessing.keys import index_digest
from micro_expression.preprocessing.qa import qa_figure, stabilisation_figure
from micro_expression.preprocessing.quality import true_sample_flows
from micro_expression.preprocessing.tables import (
    QUALITY_METRICS,
    clip_tasks,
    index_table,
    optional_path,
    quality_table,
    rejection_table,
    stage_seconds,
)

logger = logging.getLogger(__name__)


def preprocess_clips(
    clip_index: pd.DataFrame,
    ingestion_summary: dict[str, Any],
    clip_cache: ClipCache,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Preprocess every clip, reusing cached results: (index of stored clips, rejections,
    per-clip quality against ground truth where the corpus has some).

    ``ingestion_summary`` is ingestion's go-ahead: it must be the summary of this clip index
    (the same ingestion id), or the index never passed the check.
    """
    checked = ingestion_summary.get("ingestion_id")
    current = clip_index.attrs.get("ingestion_id")
    if checked != current:
        raise ValueError(
            f"the clip index (ingestion {current}) has not passed ingestion's check (the last "
            f"summary is of ingestion {checked}): rerun `kedro run --pipelines ingestion` and "
            "read why it stops"
        )
    config = PreprocessingConfig.from_params(params)
    outcomes = run_clips(clip_tasks(clip_index, config), clip_cache, config)
    seconds = stage_seconds(outcomes)
    if seconds:
        logger.info(
            "preprocessing worker seconds per stage: %s",
            ", ".join(f"{stage} {total:.1f}" for stage, total in seconds.items()),
        )
    rejections = rejection_table(outcomes)
    for row in rejections.itertuples():
        logger.warning("rejected %s at %s: %s", row.clip_id, row.stage, row.reason)
    index = index_table(outcomes, clip_index, clip_cache)
    logger.info(
        "preprocessing: %d clips stored (%d computed, %d cached), %d rejected",
        len(index), (index["status"] == "computed").sum(), (index["status"] == "cached").sum(),
        len(rejections),
    )
    return index, rejections, quality_table(outcomes, clip_index, config)


def summarise_quality(quality: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean, median and 95th percentile over clips of each quality measure, as MLflow
    metrics; logs them as a table."""
    if quality.empty:
        logger.info(
            "preprocessing quality skipped: no clip has ground truth (real datasets have none)"
        )
        return {}
    measures = quality[list(QUALITY_METRICS)]
    summary = pd.concat(
        [measures.agg(["mean", "median"]), measures.quantile([0.95]).set_axis(["p95"])]
    )
    logger.info(
        "preprocessing quality on %d clips with ground truth (flow EPE in crop px, landmark "
        "error / inter-ocular distance):\n%s",
        len(quality), summary.T.to_string(float_format="{:.4f}".format),
    )
    metrics = {
        f"{measure}.{statistic}": {"value": float(summary.at[statistic, measure]), "step": 0}
        for measure in QUALITY_METRICS
        for statistic in ("mean", "median", "p95")
    }
    metrics["clips_with_truth"] = {"value": float(len(quality)), "step": 0}
    return metrics


def render_qa_figures(
    clip_index: pd.DataFrame,
    preprocessed_index: pd.DataFrame,
    clip_cache: ClipCache,
    qa_clips: int,
) -> dict[str, Figure]:
    """QA images (frames with landmarks, TV-L1 vs true flow) for the first ``qa_clips`` clips,
    and for stabilised clips their difference from the onset before and after stabilisation."""
    clips = clip_index.set_index("clip_id")
    figures = {}
    for row in preprocessed_index.sort_values("clip_id").head(qa_clips).itertuples():
        arrays = ClipArrays.from_dict(clip_cache.read(row.content_key))
        truth = optional_path(clips.at[row.clip_id, "ground_truth_path"])
        name = re.sub(r"[^0-9A-Za-z_.-]+", "_", row.clip_id)
        figures[f"{name}.png"] = qa_figure(row.clip_id, arrays, true_sample_flows(truth, arrays))
        if not np.allclose(arrays.transform[0], arrays.transform[0, 0]):
            before = unstabilised_crops(list(clips.at[row.clip_id, "frame_paths"]), arrays)
            figures[f"{name}_stabilisation.png"] = stabilisation_figure(row.clip_id, arrays, before)
    return figures


def describe_preprocessing(
    preprocessed_index: pd.DataFrame, clip_index: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """What the preprocessed set is and how it was made: sha256 over the sorted content keys,
    the clip count, the output settings, and the clips' frame counts (onset..offset). A
    trained model carries it, so new recordings are prepared exactly like its training data."""
    frames = clip_index.set_index("clip_id").loc[preprocessed_index["clip_id"], "n_frames"]
    return {
        "preprocessed_keys_digest": index_digest(preprocessed_index["content_key"]),
        "n_clips": len(preprocessed_index),
        "settings": PreprocessingConfig.from_params(params).output_settings(),
        "clip_frames": {
            "min": int(frames.min()), "median": float(frames.median()), "max": int(frames.max())
        },
    }
