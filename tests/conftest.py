"""Test-wide settings: no telemetry, no network, a headless matplotlib."""

import os

import mlflow
import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def sqlite_tracking(tmp_path, monkeypatch):
    """A fresh sqlite MLflow store in ``tmp_path``; yields the id of an experiment in it.

    Tests start their runs in that experiment by id: the active experiment MLflow keeps in a
    global may be an earlier test's, which does not exist in this store.
    """
    monkeypatch.chdir(tmp_path)  # the experiment keeps its artifacts under ./mlruns
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        yield mlflow.MlflowClient().create_experiment("tests")
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
