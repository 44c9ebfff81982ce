"""A local MLflow store stays readable after its project folder moves."""

import shutil

import mlflow

from micro_expression.lineage.relocate import relocate_store, store_path


def _store(project):
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return mlflow.MlflowClient(uri, uri)


def test_artifacts_are_found_after_the_project_moves(tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    client = _store(first)
    experiment = client.create_experiment("e", artifact_location=str(first / "mlruns" / "1"))
    run = client.create_run(experiment)
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    client.log_artifact(run.info.run_id, str(tmp_path / "table.csv"), "ingestion")

    moved = tmp_path / "moved"
    shutil.move(first, moved)
    assert store_path("sqlite:///mlflow.db", moved) == moved / "mlflow.db"
    assert relocate_store(moved / "mlflow.db", moved / "mlruns") > 0
    client = _store(moved)
    local = client.download_artifacts(run.info.run_id, "ingestion/table.csv", str(tmp_path))
    assert open(local).read() == "a,b\n1,2\n"
    assert client.get_run(run.info.run_id).info.artifact_uri.startswith(str(moved / "mlruns"))
    assert relocate_store(moved / "mlflow.db", moved / "mlruns") == 0  # nothing left to move


def test_the_relocate_store_command_works_in_a_copied_project(tmp_path):
    """`kedro relocate-store` through the real CLI, in a project copy whose store still
    points at the folder it was copied from."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.kedro_project import copy_project

    first = copy_project(tmp_path / "first")
    client = _store(first)
    experiment = client.create_experiment("e", artifact_location=str(first / "mlruns" / "1"))
    run = client.create_run(experiment).info.run_id
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    client.log_artifact(run, str(tmp_path / "table.csv"), "ingestion")
    copied = tmp_path / "copied"
    shutil.copytree(first, copied)
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    done = subprocess.run([kedro, "relocate-store"], cwd=copied, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"artifact locations now under {copied / 'mlruns'}" in done.stdout
    assert _store(copied).get_run(run).info.artifact_uri.startswith(str(copied / "mlruns"))
    assert _store(first).get_run(run).info.artifact_uri.startswith(str(first / "mlruns"))
