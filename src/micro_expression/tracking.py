"""MLflow tracking of the folds and of the registered model.

kedro-mlflow opens one (parent) run per ``kedro run``. :class:`FoldTrackingHooks` opens a nested
run for each fold when its node starts, copies the parent's lineage (commit, versions, data
digests, dataset inputs) into it, logs the fold's parameters, per-step losses (timestamped when
they were measured), checkpoint and held-out scores, and closes it when the node ends (FAILED if
it fails). A fold trains and scores in one node, so its run spans its own training and scoring
under every runner. The ``final`` model is trained first, but logged (a pyfunc with its
preprocessing) and registered only after the run, once the run holds its LOSO scores: a run
that dies or stops before scoring registers nothing. The version then gets a description, tags,
the run's LOSO scores, an alias naming its dataset and, last, the
:data:`~micro_expression.io.packaged_model.SCORED_ALIAS` that inference uses by default. The
hooks work wherever nodes run (:class:`~micro_expression.runner.DaskRunner` runs them on Dask
workers with copies of these hooks), so fold runs are found by their tags and the final model
is read back from the catalog. Every run is tagged with the process that writes it, and each
``kedro run`` first closes as FAILED the runs whose process is gone
(:mod:`micro_expression.lineage.orphans`). Node hooks do not run under Kedro's ParallelRunner.
"""

from __future__ import annotations

import base64
import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node
from mlflow.entities import LoggedModelOutput, Metric, RunStatus

from micro_expression.evaluation.predictions import clip_scores
from micro_expression.io.packaged_model import SCORE_TAG_PREFIX, SCORED_ALIAS
from micro_expression.lineage.orphans import close_orphan_runs, process_tags
from micro_expression.mappings import flatten
from micro_expression.training.folds import (
    FINAL_FOLD,
    LOSS_HISTORY,
    MODEL,
    PREDICTIONS,
    TRAIN_NODE,
    TRAIN_TEST_NODE,
    trains_models,
)

if TYPE_CHECKING:
    from mlflow.models.model import ModelInfo

logger = logging.getLogger(__name__)

REGISTERED_MODELS = {
    "mol": "micro-expression-mol",
    "flow_baseline": "micro-expression-flow-baseline",
}
"""Registry name of the final model of each ``training.model``."""
MLFLOW_BATCH = 1000  # most metrics mlflow accepts in one log_batch call
SOURCE_TAGS = ("mlflow.user", "mlflow.source.name", "mlflow.source.type",
               "mlflow.source.git.commit")
"""Who ran a parent run, from what and at which commit: its fold runs carry them too."""
LINEAGE_TAG_PREFIXES = ("git_", "version.", "dataset.", "kedro_session_id", "lineage.")
LINEAGE_TAG_SUFFIX = "_digest"
SCORES_PREFIX = "loso.overall."
FINAL_TRAIN_NODE = f"{FINAL_FOLD}.{TRAIN_NODE}"
FOLD_NODES = (TRAIN_NODE, TRAIN_TEST_NODE)
CHECKPOINT_MODEL_TYPE = "fold-checkpoint"
"""The type of the logged models that hold fold checkpoints (the registered final model is a
pyfunc)."""
HELD_OUT_TAGS = ("held_out_subject", "held_out_dataset")
"""What a fold tests on: a subject (loso) or a dataset (the dataset protocols)."""
SCORED_DATASET = "preprocessed_index"
"""The dataset input that each fold's held-out scores are linked to."""


def lineage_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags of a parent run that say what code and data it ran on."""
    return {
        k: v for k, v in tags.items()
        if k.startswith(LINEAGE_TAG_PREFIXES) or k.endswith(LINEAGE_TAG_SUFFIX)
    }


def now_ms() -> int:
    return int(time.time() * 1000)


def running_fold_runs(
    client: mlflow.MlflowClient, parent_id: str, fold: str | None = None
) -> list[str]:
    """Ids of the unfinished runs of ``fold`` (of every fold when None) under ``parent_id``,
    newest first."""
    experiment = client.get_run(parent_id).info.experiment_id
    of_fold = f" and tags.fold = '{fold}'" if fold is not None else ""
    runs = client.search_runs(
        [experiment],
        filter_string=(f"tags.mlflow.parentRunId = '{parent_id}'{of_fold} "
                       "and attributes.status = 'RUNNING'"),
        order_by=["attributes.start_time DESC"],
    )
    return [run.info.run_id for run in runs]


def start_fold_run(client: mlflow.MlflowClient, parent_id: str, fold: str) -> str:
    """A fold run under ``parent_id``, started now, carrying the parent's lineage and inputs.

    An unfinished run of the same fold is a try whose process died (a retried Dask task): it
    is marked FAILED, so the record shows the retry and scores come from one run only.
    """
    for stale in running_fold_runs(client, parent_id, fold):
        logger.warning("fold %s: marking the unfinished earlier try %s FAILED", fold, stale)
        client.set_terminated(stale, RunStatus.to_string(RunStatus.FAILED), now_ms())
    parent = client.get_run(parent_id)
    tags = {
        **lineage_tags(parent.data.tags), **process_tags(),
        **{k: v for k, v in parent.data.tags.items() if k in SOURCE_TAGS},
        "mlflow.parentRunId": parent_id, "fold": fold,
    }
    # the parent's name in the fold's: a search across runs finds many `final`s
    run = client.create_run(parent.info.experiment_id, start_time=now_ms(), tags=tags,
                            run_name=f"{fold} · of {parent.info.run_name}")
    if parent.inputs and parent.inputs.dataset_inputs:
        client.log_inputs(run.info.run_id, datasets=parent.inputs.dataset_inputs)
    return run.info.run_id


def log_fold_training(
    client: mlflow.MlflowClient,
    run_id: str,
    fold: str,
    checkpoint: dict[str, Any],
    history: pd.DataFrame,
    params: dict[str, Any],
    started_ms: int,
) -> str:
    """Parameters, per-step losses and checkpoint of one fold, into its run; the id of the
    logged model that holds the checkpoint."""
    for tag in HELD_OUT_TAGS:
        if checkpoint.get(tag) is not None:
            client.set_tag(run_id, tag, checkpoint[tag])
    flat = flatten(params, keep_empty=False)
    flat.update({"fold": fold, "fold_seed": checkpoint["seed"]})
    client.log_batch(run_id, params=[
        mlflow.entities.Param(k, str(v)[:6000]) for k, v in flat.items()
    ])
    timestamp = now_ms()
    client.log_batch(run_id, metrics=[
        Metric(name, float(checkpoint[name]), timestamp, 0)
        for name in ("best_step", "n_train_clips", "n_validation_clips")
    ])
    log_step_metrics(client, run_id, history, started_ms)
    return log_fold_checkpoint(client, run_id, fold, checkpoint)


def log_fold_checkpoint(
    client: mlflow.MlflowClient, run_id: str, fold: str, checkpoint: dict[str, Any]
) -> str:
    """The fold's checkpoint as a logged model of its run, so that its held-out scores name
    the model that made them; the model's id."""
    import torch  # here, not at the top: every `kedro` command loads these hooks
    model = client.create_logged_model(
        client.get_run(run_id).info.experiment_id, name=fold, source_run_id=run_id,
        model_type=CHECKPOINT_MODEL_TYPE,
        tags={"fold": fold, **{tag: str(checkpoint.get(tag) or "none") for tag in HELD_OUT_TAGS}},
        params={"architecture": str(checkpoint["model"]["architecture"]),
                "fold_seed": str(checkpoint["seed"]), "best_step": str(checkpoint["best_step"])},
    )
    with tempfile.TemporaryDirectory() as folder:
        torch.save(checkpoint, Path(folder) / f"{fold}.pt")
        client.log_model_artifacts(model.model_id, folder)
    client.finalize_logged_model(model.model_id, "READY")
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=0)])
    return model.model_id


def log_step_metrics(
    client: mlflow.MlflowClient, run_id: str, history: pd.DataFrame, started_ms: int
) -> None:
    """Every loss column of ``history`` and the learning rate at its ``step``, timestamped
    ``started_ms`` plus the step's ``elapsed_s`` (when the history has it), in batches."""
    columns = [
        c for c in history.columns
        if c.startswith(("train_", "validation_")) or c == "learning_rate"
    ]
    records = history.to_dict("records")
    metrics = [
        Metric(
            column, float(row[column]),
            started_ms + int(1000 * row.get("elapsed_s", 0.0)), int(row["step"]),
        )
        for row in records
        for column in columns
        if not np.isnan(row[column])
    ]
    for start in range(0, len(metrics), MLFLOW_BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + MLFLOW_BATCH])


def log_fold_scores(
    client: mlflow.MlflowClient, run_id: str, predictions: pd.DataFrame, model_id: str
) -> None:
    """The fold's held-out scores, per clip, into its run, linked to the fold's logged model
    ``model_id`` and to the dataset its held-out clips came from."""
    run = client.get_run(run_id)
    scored = next((i.dataset for i in (run.inputs.dataset_inputs if run.inputs else [])
                   if i.dataset.name == SCORED_DATASET), None)
    timestamp = now_ms()
    client.log_batch(run_id, metrics=[
        Metric(f"test_{name}", float(value), timestamp, 0, model_id=model_id,
               dataset_name=scored.name if scored else None,
               dataset_digest=scored.digest if scored else None)
        for name, value in clip_scores(predictions).items()
        if not np.isnan(value)
    ])


def registered_model_name(checkpoint: dict[str, Any]) -> str:
    """The registry name of a checkpoint's model (MOL or the flow baseline)."""
    return REGISTERED_MODELS[checkpoint["model"]["architecture"]]


def log_final_model(
    checkpoint: dict[str, Any], example_frames: list[str] | None = None,
    tags: dict[str, str] | None = None,
) -> ModelInfo:
    """Log the final model to the active run as a pyfunc that includes its preprocessing
    (:mod:`micro_expression.inference.package`) and register it; ``example_frames`` (base64
    image files) make the input example."""
    from micro_expression.inference.package import log_packaged_model  # torch and the model

    example = pd.DataFrame({"frames": [example_frames]}) if example_frames else None
    return log_packaged_model(checkpoint, registered_model_name(checkpoint), example, tags)


def example_frames(clip_index: pd.DataFrame, project_path: Path, count: int) -> list[str] | None:
    """The first ``count`` frames of the first indexed clip, base64-encoded: a record as a
    client sends it (a served model reads no paths unless allowed to)."""
    if clip_index.empty:
        return None
    paths = clip_index.sort_values("clip_id")["frame_paths"].iloc[0][:count]
    return [base64.b64encode((project_path / path).read_bytes()).decode() for path in paths]


def model_description(
    checkpoint: dict[str, Any], parent_tags: dict[str, str], parent_name: str,
    scores: dict[str, float],
) -> str:
    """What a registered version is, what it was trained on and how its recipe scored."""
    model = checkpoint["model"]
    recipe = (
        f"MOL, preset {model.get('preset')}, variant {model.get('variant')}"
        if model["architecture"] == "mol" else "flow baseline (STSTNet on onset-apex TV-L1 flow)"
    )
    lines = [
        f"{recipe}; classes {', '.join(checkpoint['classes'])}.",
        f"Trained on every subject of dataset `{parent_tags.get('dataset.name', '?')}` "
        f"({checkpoint['n_train_clips']} clips) by run `{parent_name}`, "
        f"commit {parent_tags.get('git_commit', 'unknown')}"
        f"{' (uncommitted changes)' if parent_tags.get('git_dirty') == 'true' else ''}.",
        f"Data: clip_index {parent_tags.get('clip_index_digest', '?')[:12]}, "
        f"preprocessed_index {parent_tags.get('preprocessed_index_digest', '?')[:12]} "
        "(sha256 prefixes; whole digests in the tags).",
    ]
    listed = ", ".join(
        f"{k.removeprefix(SCORES_PREFIX)} {v:.3f}" for k, v in sorted(scores.items())
        if not k.endswith("n_clips")
    )
    lines.append(
        f"Leave-one-subject-out scores of the same recipe in that run: {listed}. "
        "This model saw every subject, so no held-out score is its own."
    )
    return "\n\n".join(lines)


class FoldTrackingHooks:
    """Logs each fold of the training pipeline in a nested MLflow run, and annotates the
    registered final model (see module docstring)."""

    def __init__(self) -> None:
        self._fold_runs: dict[str, str] = {}
        self._fold_started: dict[str, int] = {}
        self._catalog: Any = None
        self._project_path = Path.cwd()

    @hook_impl(trylast=True)  # after kedro-mlflow has opened the run
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        self._fold_runs.clear()
        self._fold_started.clear()
        self._catalog = catalog
        self._project_path = Path(run_params.get("project_path") or Path.cwd())
        run = mlflow.active_run()
        if run is not None:
            mlflow.set_tags(process_tags())
        close_abandoned_runs(f"kedro run {run.info.run_id}" if run else "kedro run")

    def _example_frames(self, checkpoint: dict[str, Any]) -> list[str] | None:
        try:
            return example_frames(self._catalog.load("clip_index"), self._project_path,
                                  int(checkpoint["preprocessing"]["frames_per_sample"]))
        except Exception as error:  # an example is a convenience: never fail the run for it
            logger.warning("no input example for the registered model: %s", error)
            return None

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        run = mlflow.active_run()
        if run is None or node.namespace is None or _task(node) not in FOLD_NODES:
            return
        fold = node.namespace
        self._fold_runs[fold] = start_fold_run(mlflow.MlflowClient(), run.info.run_id, fold)
        # after the run exists, so no step is stamped before the run's start however slow
        # opening it was, and before training starts, so none is stamped after its end
        self._fold_started[fold] = now_ms()

    def _fold_run(self, fold: str | None) -> str | None:
        """The fold's open run, which ``before_node_run`` started in this process (a fold is
        one node, so one process runs all of its hooks)."""
        return self._fold_runs.get(fold) if fold and mlflow.active_run() else None

    @hook_impl
    def after_node_run(self, node: Node, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        if _task(node) not in FOLD_NODES:
            return
        fold = node.namespace
        run_id = self._fold_run(fold)
        if run_id is None:
            return
        client = mlflow.MlflowClient()
        model_id = log_fold_training(
            client, run_id, fold, outputs[f"{fold}.{MODEL}"], outputs[f"{fold}.{LOSS_HISTORY}"],
            inputs["params:training"], self._fold_started[fold],
        )
        if f"{fold}.{PREDICTIONS}" in outputs:  # the final model is scored by the folds'
            log_fold_scores(client, run_id, outputs[f"{fold}.{PREDICTIONS}"], model_id)
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED), now_ms())

    @hook_impl
    def on_node_error(self, node: Node) -> None:
        run_id = self._fold_run(node.namespace)
        if run_id is not None:
            mlflow.MlflowClient().set_terminated(
                run_id, RunStatus.to_string(RunStatus.FAILED), now_ms()
            )

    @hook_impl(tryfirst=True)  # before kedro-mlflow's hook ends the run
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        run = mlflow.active_run()
        if run is None or FINAL_TRAIN_NODE not in {n.name for n in pipeline.nodes}:
            return
        client = mlflow.MlflowClient()
        parent = client.get_run(run.info.run_id)
        if not run_scores(parent):
            logger.warning(
                "final model not registered: run %s has no leave-one-subject-out scores (run "
                "the evaluation with it); its checkpoint is in the run's `%s` fold run",
                parent.info.run_name, FINAL_FOLD,
            )
            return
        # read back, not kept from after_node_run: a Dask worker may have trained it
        checkpoint = catalog.load(f"{FINAL_FOLD}.{MODEL}")
        info = log_final_model(checkpoint, self._example_frames(checkpoint),
                               lineage_tags(parent.data.tags))
        annotate_registered_version(client, parent.info.run_id, checkpoint, info)
        logger.info("final model logged as %s, registered as %s version %s (alias %s)",
                    info.model_uri, registered_model_name(checkpoint),
                    info.registered_model_version, SCORED_ALIAS)


class SystemMetricsHooks:
    """MLflow's system metrics (``system/*``) in runs that train, unless
    ``training.system_metrics`` is false. ``tryfirst``: the monitor starts with the run, which
    kedro-mlflow opens in its own ``before_pipeline_run``."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        if trains_models(pipeline.all_outputs()) and _training_config(catalog).system_metrics:
            mlflow.enable_system_metrics_logging()
        else:
            mlflow.disable_system_metrics_logging()

    @hook_impl(trylast=True)  # after kedro-mlflow has ended the run and stopped its monitor
    def after_pipeline_run(self) -> None:
        mlflow.disable_system_metrics_logging()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        mlflow.disable_system_metrics_logging()


def close_abandoned_runs(found_by: str) -> None:
    """Close as FAILED the runs of the tracking store whose process is gone; never fails."""
    try:
        closed = close_orphan_runs(mlflow.MlflowClient(), found_by)
    except mlflow.exceptions.MlflowException as error:  # housekeeping: never stop the run
        logger.warning("could not look for abandoned runs: %s", error)
        return
    for run, reason in closed:
        logger.warning("run %s [%s] marked FAILED: %s", run.info.run_name, run.info.run_id,
                       reason)


def run_scores(run: mlflow.entities.Run) -> dict[str, float]:
    """The run's overall LOSO scores (``loso.overall.*``); empty when it did not score."""
    return {k: v for k, v in run.data.metrics.items() if k.startswith(SCORES_PREFIX)}


def annotate_registered_version(
    client: mlflow.MlflowClient, run_id: str, checkpoint: dict[str, Any], info: ModelInfo
) -> None:
    """Description, lineage tags, the run's LOSO scores and aliases for the version ``info``
    registered. The scores are tags of the version that say they are the recipe's, never
    metrics of its logged model: the final model saw every subject, and the fold models that
    were scored hold their own held-out scores. The scores are tagged after the rest and
    :data:`SCORED_ALIAS` is moved last: a version is vetted only when all of it was written."""
    run = client.get_run(run_id)
    tags = lineage_tags(run.data.tags)
    scores = run_scores(run)
    name, version = registered_model_name(checkpoint), str(info.registered_model_version)
    client.update_model_version(
        name, version, model_description(checkpoint, run.data.tags, run.info.run_name, scores)
    )
    model = checkpoint["model"]
    version_tags = {
        **tags,
        "source_run": run.info.run_name,
        "architecture": model["architecture"],
        "trained_on": "every subject (final model; LOSO scores belong to the recipe)",
    }
    if model.get("preset"):
        version_tags["preset"] = str(model["preset"])
    version_tags.update({
        f"{SCORE_TAG_PREFIX}{k.removeprefix(SCORES_PREFIX)}": f"{v:.4g}" for k, v in scores.items()
    })
    for key, value in version_tags.items():
        client.set_model_version_tag(name, version, key, value)
    dataset = run.data.tags.get("dataset.name")
    if dataset:
        client.set_registered_model_alias(name, _alias(dataset), version)
    client.set_registered_model_alias(name, SCORED_ALIAS, version)


def _alias(dataset: str) -> str:
    """A registry alias for a dataset name (letters, digits, ``-`` and ``_`` only)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in dataset).strip("-")
    reserved = {"latest", "", SCORED_ALIAS}
    return f"dataset-{cleaned}" if cleaned.lower() in reserved else cleaned


def _training_config(catalog: Any) -> Any:
    from micro_expression.training.loop import TrainingConfig  # torch: only for runs that train
    return TrainingConfig.from_params(catalog.load("params:training"))


def _task(node: Node) -> str:
    return node.name.rsplit(".", 1)[-1]

