"""A `kedro run` killed with SIGKILL while a fold trains (after `final` was trained): nothing
unscored becomes the inference default, and `kedro lineage` or the next `kedro run` closes
the runs it left open as FAILED."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from micro_expression.io.packaged_model import DEFAULT_MODEL_URI, resolve_model_uri
from micro_expression.lineage.orphans import FAILURE_TAG
from tests.kedro_project import configure_tiny_run, copy_project, kedro_run

MODEL = "micro-expression-mol"
pytestmark = pytest.mark.slow

# A fold run (not the final one) open in the store: the final model is trained by then.
OPEN_FOLD_RUN = """
    SELECT tags.value FROM runs JOIN tags ON runs.run_uuid = tags.run_uuid
    WHERE runs.status = 'RUNNING' AND tags.key = 'mlflow.parentRunId' AND runs.run_uuid IN
        (SELECT run_uuid FROM tags WHERE key = 'fold' AND value != 'final')
"""


def _open_fold_parent(database: Path) -> str | None:
    """The parent run id of an open fold run, read without writing to the store."""
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            row = connection.execute(OPEN_FOLD_RUN).fetchone()
    except sqlite3.OperationalError:  # not created yet, or a migration under way
        return None
    return row[0] if row else None


def kill_while_a_fold_trains(project: Path, *args: str) -> str:
    """Start `kedro run <args>`, SIGKILL its process group once a fold run is open; the id
    of the parent run it left."""
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    with open(project / "killed.log", "w") as log:
        process = subprocess.Popen([kedro, "run", *args], cwd=project, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while (parent := _open_fold_parent(project / "mlflow.db")) is None:
                assert process.poll() is None, (project / "killed.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "no fold started within 5 minutes"
                time.sleep(0.2)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return parent


def _client(project: Path) -> MlflowClient:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _family(client: MlflowClient, parent: str) -> dict[str, object]:
    """The parent run and its fold runs, by fold name ("parent" for the parent)."""
    experiment = client.get_run(parent).info.experiment_id
    folds = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent}'")
    return {"parent": client.get_run(parent), **{r.data.tags["fold"]: r for r in folds}}


def test_a_killed_run_leaves_no_default_and_its_runs_are_closed_failed(tmp_path):
    project = copy_project(tmp_path / "project")
    configure_tiny_run(project, subjects=2, workers=1)

    first = kill_while_a_fold_trains(project)
    client = _client(project)
    runs = _family(client, first)
    assert runs["final"].info.status == "FINISHED"  # the final model was trained
    left_open = [name for name in runs if name != "final"]
    assert {runs[n].info.status for n in left_open} == {"RUNNING"}  # what the kill left
    assert client.search_model_versions(f"name='{MODEL}'") == []

    lineage = subprocess.run(
        [str(Path(sys.executable).with_name("kedro")), "lineage", first, "--no-rescan"],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "500"},
    )
    assert lineage.returncode == 0, lineage.stdout + lineage.stderr
    assert f"[{first}] FAILED: process " in lineage.stderr
    assert f"[{first}]  FAILED, started" in lineage.stdout  # the audit shows it closed
    runs = _family(client, first)
    assert {runs[n].info.status for n in left_open} == {"FAILED"}
    for name in left_open:
        assert "found by kedro lineage" in runs[name].data.tags[FAILURE_TAG]

    clip = next((project / "data/01_raw/synthetic/CASME2_RAW_selected/sub01").iterdir())
    inference = kedro_run(project, "--pipelines", "inference", "--params",
                          f"inference.source={clip}")
    assert inference.returncode != 0
    assert "no version with alias 'scored' (training sets it once a run has its" in (
        inference.stdout + inference.stderr)

    second = kill_while_a_fold_trains(project, "--pipelines", "training,evaluation")
    result = kedro_run(project, "--pipelines", "training,evaluation")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    runs = _family(client, second)
    assert {runs[n].info.status for n in runs if n != "final"} == {"FAILED"}
    assert "found by kedro run " in runs["parent"].data.tags[FAILURE_TAG]

    (version,) = client.search_model_versions(f"name='{MODEL}'")  # none from the killed runs
    scored = client.get_run(version.run_id)
    assert scored.info.run_id not in (first, second)
    assert float(version.tags["loso_uf1"]) == pytest.approx(
        scored.data.metrics["loso.overall.uf1"], abs=1e-4)
    assert resolve_model_uri(DEFAULT_MODEL_URI, client)[2] == str(version.version)
