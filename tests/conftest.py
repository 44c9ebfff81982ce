"""Test-wide settings: no telemetry, no network, a headless matplotlib."""

import os

import mlflow
import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def sqlite_tracking(tmp_path, monkeypatch):
    """A fresh sqlite MLflow store in ``tmp_path`` with its own active experiment.

    MLflow keeps the active experiment in a module global and an environment variable; an
    earlier test's experiment id would not exist in this store, so both are set here and
    restored afterwards.
    """
    from mlflow.tracking import fluent

    monkeypatch.chdir(tmp_path)  # the experiment keeps its artifacts under ./mlruns
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        yield mlflow.set_experiment("tests")
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
