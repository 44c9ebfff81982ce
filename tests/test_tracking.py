"""Fold runs of the tracking hooks against a real sqlite MLflow store."""

import time

import mlflow
import pandas as pd
from kedro.pipeline import node

from micro_expression import tracking
from micro_expression.training.folds import LOSS_HISTORY, MODEL, TRAIN_NODE


def _train(clips):
    return clips, clips


def test_step_losses_are_never_stamped_before_their_fold_run_starts(
    tmp_path, monkeypatch, sqlite_tracking
):
    """Opening a fold run can be slow (a busy store, a stale try to close); the first step's
    loss, measured right after, must still lie inside the run."""
    open_fold_run = tracking.start_fold_run

    def slow_open(client, parent_id, fold):
        time.sleep(0.5)
        return open_fold_run(client, parent_id, fold)

    monkeypatch.setattr(tracking, "start_fold_run", slow_open)
    fold = "fold_synthetic_sub01"
    train = node(_train, "clips", [MODEL, LOSS_HISTORY], name=TRAIN_NODE, namespace=fold)
    history = pd.DataFrame({"step": [1, 2], "train_total": [1.1, 0.9], "elapsed_s": [0.0, 0.01]})
    checkpoint = {"held_out_subject": "sub01", "seed": 42, "best_step": 2,
                  "n_train_clips": 6, "n_validation_clips": 2,
                  "model": {"architecture": "flow_baseline"}}
    hooks = tracking.FoldTrackingHooks()
    hooks.before_pipeline_run({"project_path": str(tmp_path)}, catalog=None)
    with mlflow.start_run(experiment_id=sqlite_tracking) as parent:
        hooks.before_node_run(train)
        hooks.after_node_run(train, {"params:training": {"seed": 42}},
                             {f"{fold}.{MODEL}": checkpoint, f"{fold}.{LOSS_HISTORY}": history})
    client = mlflow.MlflowClient()
    (run,) = client.search_runs(
        [sqlite_tracking], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    fold_run = run.info.run_id
    assert run.info.status == "FINISHED"
    stamps = [m.timestamp for m in client.get_metric_history(fold_run, "train_total")]
    assert len(stamps) == 2
    assert run.info.start_time <= stamps[0] <= stamps[1]


def test_system_metrics_are_sampled_in_runs_that_train_unless_switched_off():
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Pipeline
    from mlflow.environment_variables import MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING

    fold = "fold_synthetic_sub01"
    trains = Pipeline([node(_train, "clips", [f"{fold}.{MODEL}", f"{fold}.{LOSS_HISTORY}"],
                            name=TRAIN_NODE, namespace=fold)])
    prepares = Pipeline([node(lambda clips: clips, "clips", "clip_index")])
    hooks = tracking.SystemMetricsHooks()
    for pipeline, switch, sampled in ((trains, True, True), (prepares, True, False),
                                      (trains, False, False)):
        catalog = DataCatalog({"params:training": MemoryDataset({"system_metrics": switch})})
        hooks.before_pipeline_run(pipeline, catalog)
        assert MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.get() is sampled, (pipeline, switch)
        hooks.after_pipeline_run()
        assert MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.get() is False
