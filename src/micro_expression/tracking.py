"""MLflow tracking of the folds: a nested run per fold, the final model in the registry.

kedro-mlflow opens one (parent) run per ``kedro run``. :class:`FoldTrackingHooks` adds, after
each fold's training node, a nested run with that fold's parameters, per-step losses and
checkpoint, and after its prediction node the fold's scores; then the parent is active again.
The ``final`` model is logged to the parent as a pyfunc with its preprocessing, and registered.
Node hooks do not run under ParallelRunner, so folds are tracked with the sequential runner.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node
from mlflow.entities import Metric
from mlflow.models.model import ModelInfo

from micro_expression.evaluation.predict import clip_scores
from micro_expression.inference.package import log_packaged_model
from micro_expression.pipelines.training.pipeline import (
    LOSS_HISTORY,
    MODEL,
    PREDICT_NODE,
    PREDICTIONS,
    TRAIN_NODE,
)
from micro_expression.training.folds import FINAL_FOLD

logger = logging.getLogger(__name__)

REGISTERED_MODELS = {
    "mol": "micro-expression-mol",
    "flow_baseline": "micro-expression-flow-baseline",
}
"""Registry name of the final model of each ``training.model``."""
MLFLOW_BATCH = 1000  # most metrics mlflow accepts in one log_batch call


@contextmanager
def nested_run(fold: str, run_id: str | None = None) -> Iterator[mlflow.ActiveRun]:
    """Start (or resume, with ``run_id``) the fold's run under the active one; end it after."""
    run = mlflow.start_run(
        run_id=run_id, run_name=None if run_id else fold, nested=True,
        tags=None if run_id else {"fold": fold},
    )
    try:
        yield run
    finally:
        mlflow.end_run()


def log_fold_training(
    fold: str, checkpoint: dict[str, Any], history: pd.DataFrame, params: dict[str, Any]
) -> str:
    """Nested run of one fold: parameters, per-step losses, checkpoint. Returns its id."""
    with nested_run(fold) as run:
        if checkpoint["held_out_subject"] is not None:
            mlflow.set_tag("held_out_subject", checkpoint["held_out_subject"])
        flat = pd.json_normalize(params, sep=".").iloc[0].to_dict()
        mlflow.log_params({**flat, "fold": fold, "fold_seed": checkpoint["seed"]})
        mlflow.log_metrics({
            "best_step": checkpoint["best_step"],
            "n_train_clips": checkpoint["n_train_clips"],
            "n_validation_clips": checkpoint["n_validation_clips"],
        })
        log_step_metrics(run.info.run_id, history)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{fold}.pt"
            torch.save(checkpoint, path)
            mlflow.log_artifact(str(path), artifact_path="checkpoint")
        return run.info.run_id


def log_step_metrics(run_id: str, history: pd.DataFrame) -> None:
    """Every loss column of ``history`` and the learning rate at its ``step``, in batches."""
    columns = [
        c for c in history.columns
        if c.startswith(("train_", "validation_")) or c == "learning_rate"
    ]
    timestamp = int(time.time() * 1000)
    metrics = [
        Metric(column, float(row[column]), timestamp, int(row["step"]))
        for row in history.to_dict("records")
        for column in columns
        if not np.isnan(row[column])
    ]
    client = mlflow.MlflowClient()
    for start in range(0, len(metrics), MLFLOW_BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + MLFLOW_BATCH])


def log_fold_scores(fold: str, predictions: pd.DataFrame, run_id: str | None = None) -> str:
    """The fold's held-out scores, per clip, into its run (a new one if ``run_id`` is None)."""
    with nested_run(fold, run_id) as run:
        values = {f"test_{k}": float(v) for k, v in clip_scores(predictions).items()}
        mlflow.log_metrics({k: v for k, v in values.items() if not np.isnan(v)})
        return run.info.run_id


def registered_model_name(checkpoint: dict[str, Any]) -> str:
    """The registry name of a checkpoint's model (MOL or the flow baseline)."""
    return REGISTERED_MODELS[checkpoint["model"]["architecture"]]


def log_final_model(checkpoint: dict[str, Any], example_clip: str | None = None) -> ModelInfo:
    """Log the final model to the active run as a pyfunc that includes its preprocessing
    (:mod:`micro_expression.inference.package`) and register it; ``example_clip`` (a frame
    folder) makes the input example."""
    example = pd.DataFrame({"path": [example_clip]}) if example_clip else None
    return log_packaged_model(checkpoint, registered_model_name(checkpoint), example)


def example_clip_folder(clip_index: pd.DataFrame, project_path: Path) -> str | None:
    """The frame folder of the first indexed clip, relative to the project when inside it."""
    if clip_index.empty:
        return None
    folder = Path(clip_index.sort_values("clip_id")["frame_paths"].iloc[0][0]).parent
    try:
        return str(folder.relative_to(project_path))
    except ValueError:
        return str(folder)


class FoldTrackingHooks:
    """Logs each fold of the training pipeline in a nested MLflow run (see module docstring)."""

    def __init__(self) -> None:
        self._fold_runs: dict[str, str] = {}
        self._catalog: Any = None
        self._project_path = Path.cwd()

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        self._fold_runs.clear()
        self._catalog = catalog
        self._project_path = Path(run_params.get("project_path") or Path.cwd())

    def _example_clip(self) -> str | None:
        try:
            return example_clip_folder(self._catalog.load("clip_index"), self._project_path)
        except Exception as error:  # an example is a convenience: never fail the run for it
            logger.warning("no input example for the registered model: %s", error)
            return None

    @hook_impl
    def after_node_run(self, node: Node, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        if mlflow.active_run() is None or node.namespace is None:
            return
        fold, task = node.namespace, node.name.rsplit(".", 1)[-1]
        if task == TRAIN_NODE:
            checkpoint = outputs[f"{fold}.{MODEL}"]
            self._fold_runs[fold] = log_fold_training(
                fold, checkpoint, outputs[f"{fold}.{LOSS_HISTORY}"], inputs["params:training"]
            )
            if fold == FINAL_FOLD:
                info = log_final_model(checkpoint, self._example_clip())
                logger.info("final model logged as %s, registered as %s", info.model_uri,
                            registered_model_name(checkpoint))
        elif task == PREDICT_NODE:
            self._fold_runs[fold] = log_fold_scores(
                fold, outputs[f"{fold}.{PREDICTIONS}"], self._fold_runs.get(fold)
            )
