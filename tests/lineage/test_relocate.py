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
