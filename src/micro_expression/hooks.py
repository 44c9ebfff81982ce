"""Project hooks: lineage of every run in MLflow (code, environment, data digests, counts)."""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.framework.hooks import hook_impl

from micro_expression.lineage import code_version, environment_versions, table_digest

logger = logging.getLogger(__name__)

# mlflow's dataset table holds digests of at most 36 characters.
MLFLOW_DIGEST_LENGTH = 32


@dataclass(frozen=True)
class TrackedTable:
    """A table whose content digest, counts and MLflow dataset input every run records."""

    key: str
    content_columns: tuple[str, ...]
    counted_by: str | None = None


TRACKED_TABLES = {
    "clip_index": TrackedTable(
        key="clip_id",
        content_columns=(
            "dataset", "subject", "content_hash", "n_frames", "onset", "apex", "offset",
            "emotion", "label", "label_id", "frame_width", "frame_height",
        ),
        counted_by="label",
    ),
    "preprocessed_index": TrackedTable(
        key="clip_id", content_columns=("content_key", "n_samples", "label_id"), counted_by="label"
    ),
    "rejected_clips": TrackedTable(key="clip_id", content_columns=("source", "reason", "kind")),
    "preprocessing_rejections": TrackedTable(key="clip_id", content_columns=("stage", "reason")),
}


ARTIFACT_TABLES = {"clip_index": "ingestion", "rejected_clips": "ingestion"}
"""Tables logged, when a run saves them, as artifacts under these folders (Parquet and CSV)."""


class LineageHooks:
    """Tags each MLflow run with its code and environment, and digests the tracked tables.

    Runs after kedro-mlflow's hooks (``trylast``), so the run they open is active.
    """

    def __init__(self) -> None:
        self._logged: set[str] = set()
        self._dataset_params: dict[str, Any] = {}

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        self._logged.clear()
        self._dataset_params = _dataset_params(catalog)
        if mlflow.active_run() is None:
            return
        tags = code_version(Path(run_params.get("project_path") or "."))
        tags.update({f"version.{name}": v for name, v in environment_versions().items()})
        tags.update({f"dataset.{k}": str(v) for k, v in _flat(self._dataset_params).items()})
        mlflow.set_tags(tags)

    @hook_impl(trylast=True)
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        self._record(dataset_name, data)
        if dataset_name in ARTIFACT_TABLES and mlflow.active_run() is not None:
            _log_table(data, dataset_name, ARTIFACT_TABLES[dataset_name])

    @hook_impl(trylast=True)
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        self._record(dataset_name, data)

    def _record(self, name: str, data: Any) -> None:
        tracked = TRACKED_TABLES.get(name)
        if tracked is None or name in self._logged or mlflow.active_run() is None:
            return
        if not isinstance(data, pd.DataFrame):
            return
        self._logged.add(name)
        columns = tuple(c for c in tracked.content_columns if c in data.columns)
        digest = table_digest(data, columns, key=tracked.key)
        mlflow.set_tag(f"{name}_digest", digest)
        metrics = {f"{name}.rows": len(data)}
        if "subject" in data.columns:
            metrics[f"{name}.subjects"] = data["subject"].nunique()
        if tracked.counted_by and tracked.counted_by in data.columns:
            counts = data[tracked.counted_by].value_counts()
            metrics.update({f"{name}.{tracked.counted_by}.{k}": int(v) for k, v in counts.items()})
        mlflow.log_metrics(metrics)
        with warnings.catch_warnings():
            # mlflow registers its local source class twice and warns of the ambiguity, and
            # hints at model-signature pitfalls of integer columns: neither concerns lineage.
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(
                _scalar_columns(data), source=_source(self._dataset_params), name=name,
                digest=digest[:MLFLOW_DIGEST_LENGTH],
            )
        mlflow.log_input(dataset, context=name)
        logger.info("%s: %d rows, digest %s", name, len(data), digest[:12])


def _log_table(table: pd.DataFrame, name: str, folder: str) -> None:
    """``table`` as ``<folder>/<name>.parquet`` and ``.csv`` artifacts of the active run."""
    with tempfile.TemporaryDirectory() as scratch:
        parquet, csv = Path(scratch) / f"{name}.parquet", Path(scratch) / f"{name}.csv"
        table.to_parquet(parquet, index=False)
        table.to_csv(csv, index=False)
        mlflow.log_artifact(str(parquet), artifact_path=folder)
        mlflow.log_artifact(str(csv), artifact_path=folder)


def _dataset_params(catalog: Any) -> dict[str, Any]:
    if "params:dataset" not in catalog:
        return {}
    return dict(catalog.load("params:dataset"))


def _source(dataset: dict[str, Any]) -> str:
    """Where the data came from: the dataset root, or each part's root for the composite."""
    if dataset.get("name") == "composite":
        return ";".join(f"{part}={root}" for part, root in (dataset.get("roots") or {}).items())
    return str(dataset.get("root") or "unknown")


def _flat(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _scalar_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table without list-valued columns, which mlflow's schema inference rejects."""
    listy = [c for c in table.columns if any(isinstance(v, (list, tuple)) for v in table[c])]
    return table.drop(columns=listy)
