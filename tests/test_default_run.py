"""The whole project end to end: `kedro run` through the CLI on a tiny generated corpus."""

import subprocess

import nbformat
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from nbclient import NotebookClient

from tests.kedro_project import copy_project, kedro_run, set_parameters

SUBJECTS = ["synthetic/sub01", "synthetic/sub02", "synthetic/sub03"]
FOLDS = ["fold_synthetic_sub01", "fold_synthetic_sub02", "fold_synthetic_sub03"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A project copy with a 3-subject corpus, run once with the default `kedro run`."""
    project = copy_project(tmp_path_factory.mktemp("default_run") / "project")
    set_parameters(project, "synthetic", {"synthetic": {
        "subjects": 3, "clips_per_class": 1, "frame_count": [9, 11], "image_size": [240, 320],
        "face_width_px": [110, 120], "amplitude_px": [0.8, 2.0],
    }})
    set_parameters(project, "preprocessing", {"preprocessing": {"workers": 2, "qa_clips": 1}})
    set_parameters(project, "training", {"training": {
        "steps": 3, "batch_size": 3, "threads": 1, "schedule": {"warmup_steps": 0}}})
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    result = kedro_run(project)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return project, result


def _client(project):
    client = MlflowClient(
        tracking_uri=f"sqlite:///{project / 'mlflow.db'}",
        registry_uri=f"sqlite:///{project / 'mlflow.db'}",
    )
    experiment = client.get_experiment_by_name("micro_expression")
    return client, client.search_runs([experiment.experiment_id])


@pytest.mark.slow
def test_default_run_writes_every_stage(tiny_run):
    project, _ = tiny_run
    index = pd.read_parquet(project / "data/02_intermediate/clip_index.parquet")
    assert sorted(index.subject.unique()) == SUBJECTS
    assert len(index) == 9
    preprocessed = pd.read_parquet(project / "data/03_primary/preprocessed_index.parquet")
    assert len(preprocessed) == 9
    predictions = pd.read_parquet(project / "data/07_model_output/loso_predictions.parquet")
    assert sorted(predictions.clip_id) == sorted(index.clip_id)
    for subject, fold in zip(SUBJECTS, FOLDS):  # each fold predicts its held-out subject only
        fold_predictions = pd.read_parquet(
            project / "data/07_model_output/fold_predictions" / f"{fold}.parquet"
        )
        assert set(fold_predictions.subject) == {subject}


@pytest.mark.slow
def test_default_run_tracks_parent_and_fold_runs_in_mlflow(tiny_run):
    project, _ = tiny_run
    client, runs = _client(project)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    (parent,) = parents
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert {c.info.run_name for c in children} >= set(FOLDS)

    tags, metrics = parent.data.tags, parent.data.metrics
    assert tags["git_commit"] == "unknown"  # the copy has a repository but no commit
    assert len(tags["clip_index_digest"]) == 64
    assert len(tags["preprocessed_index_digest"]) == 64
    assert metrics["clip_index.rows"] == 9
    assert {"loso.overall.uf1", "loso.overall.uar", "loso.overall.accuracy"} <= set(metrics)
    assert 0.0 <= metrics["loso.overall.uf1"] <= 1.0

    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"ingestion", "preprocessing"} <= artifacts
    versions = client.search_model_versions("name='micro-expression-mol'")
    assert [v.run_id for v in versions] == [parent.info.run_id]

    fold_run = next(c for c in children if c.info.run_name == FOLDS[0])
    history = client.get_metric_history(fold_run.info.run_id, "train_total")
    assert [m.step for m in history] == [1, 2, 3]


@pytest.mark.slow
def test_one_fold_runs_alone_by_namespace(tiny_run):
    project, _ = tiny_run
    model = project / "data/06_models/folds" / f"{FOLDS[1]}.pt"
    before = model.stat().st_mtime_ns
    result = kedro_run(project, "--namespaces", FOLDS[1])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{FOLDS[1]}.train_fold" in result.stdout + result.stderr
    assert f"{FOLDS[0]}.train_fold" not in result.stdout + result.stderr
    assert model.stat().st_mtime_ns > before


@pytest.mark.slow
def test_notebook_runs_on_the_run_outputs(tiny_run):
    project, _ = tiny_run
    path = project / "notebooks" / "explore_clip_index.ipynb"
    notebook = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(notebook, timeout=300, resources=resources).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for o in outputs)
    assert not any(o.get("output_type") == "error" for o in outputs)
