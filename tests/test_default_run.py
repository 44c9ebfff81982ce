"""The whole project end to end: `kedro run` through the CLI on a tiny generated corpus."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import nbformat
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from nbclient import NotebookClient

from tests.kedro_project import configure_tiny_run, copy_project, kedro_run, set_parameters

SUBJECTS = ["synthetic/sub01", "synthetic/sub02", "synthetic/sub03"]
FOLDS = ["fold_synthetic_sub01", "fold_synthetic_sub02", "fold_synthetic_sub03"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A project copy with a 3-subject corpus, run once with the default `kedro run`."""
    project = copy_project(tmp_path_factory.mktemp("default_run") / "project")
    configure_tiny_run(project, subjects=3)
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
    assert {c.data.tags["fold"] for c in children} == {*FOLDS, "final"}
    for child in children:  # named so that a search across runs tells them apart
        assert child.info.run_name == f"{child.data.tags['fold']} · of {parent.info.run_name}"
        assert child.data.tags["mlflow.user"] == parent.data.tags["mlflow.user"]
        assert child.data.tags["mlflow.source.name"] == parent.data.tags["mlflow.source.name"]

    tags, metrics = parent.data.tags, parent.data.metrics
    assert tags["git_commit"] == "unknown"  # the copy has a repository but no commit
    assert len(tags["clip_index_digest"]) == 64
    assert len(tags["preprocessed_index_digest"]) == 64
    assert metrics["clip_index.rows"] == 9
    assert {"loso.overall.uf1", "loso.overall.uar", "loso.overall.accuracy"} <= set(metrics)
    assert 0.0 <= metrics["loso.overall.uf1"] <= 1.0
    assert {"system/cpu_utilization_percentage", "system/system_memory_usage_megabytes"} <= set(
        metrics)  # a run that trains samples the machine (training.system_metrics: true)

    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"ingestion", "preprocessing"} <= artifacts
    versions = client.search_model_versions("name='micro-expression-mol'")
    assert [v.run_id for v in versions] == [parent.info.run_id]

    fold_run = next(c for c in children if c.data.tags["fold"] == FOLDS[0])
    history = client.get_metric_history(fold_run.info.run_id, "train_total")
    assert [m.step for m in history] == [1, 2, 3]


@pytest.mark.slow
def test_runs_are_named_and_fold_runs_span_their_training(tiny_run):
    project, _ = tiny_run
    client, runs = _client(project)
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.run_name.startswith("default · synthetic · mol/small · ")
    assert parent.info.run_name.endswith(parent.info.run_id[:6])
    for fold in [r for r in runs if "mlflow.parentRunId" in r.data.tags]:
        assert fold.info.status == "FINISHED"
        assert parent.info.start_time <= fold.info.start_time < fold.info.end_time
        history = client.get_metric_history(fold.info.run_id, "train_total")
        stamps = [m.timestamp for m in history]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert fold.info.start_time <= stamps[0] and stamps[-1] <= fold.info.end_time
        if fold.data.tags["fold"] != "final":
            (score,) = client.get_metric_history(fold.info.run_id, "test_uf1")
            assert stamps[-1] <= score.timestamp <= fold.info.end_time
    # the sequential runner trains and scores one fold at a time: a fold run that overlaps
    # another would be waiting for the other folds, not training or scoring its own
    spans = sorted((r.info.start_time, r.info.end_time) for r in runs
                   if "mlflow.parentRunId" in r.data.tags)
    assert len(spans) == len(FOLDS) + 1
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


@pytest.mark.slow
def test_tags_mean_something_and_fold_runs_carry_the_lineage(tiny_run):
    project, _ = tiny_run
    client, runs = _client(project)
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    tags = parent.data.tags
    assert not {"runner", "project_path", "run_id", "extra_params", "kedro_version"} & set(tags)
    assert "None" not in tags.values()
    assert tags["kedro_session_id"] and tags["dataset.name"] == "synthetic"
    lineage = {k: v for k, v in tags.items()
               if k.startswith(("git_", "version.", "dataset.")) or k.endswith("_digest")}
    parent_inputs = {i.dataset.name: i.dataset.digest for i in parent.inputs.dataset_inputs}
    for fold in [r for r in runs if "mlflow.parentRunId" in r.data.tags]:
        assert {k: fold.data.tags.get(k) for k in lineage} == lineage
        fold_inputs = {i.dataset.name: i.dataset.digest for i in fold.inputs.dataset_inputs}
        assert fold_inputs == parent_inputs


@pytest.mark.slow
def test_dataset_inputs_name_their_files_and_their_whole_digest(tiny_run):
    project, _ = tiny_run
    client, runs = _client(project)
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    inputs = {i.dataset.name: i for i in parent.inputs.dataset_inputs}
    assert "data/02_intermediate/clip_index.parquet" in inputs["clip_index"].dataset.source
    assert "data/03_primary/preprocessed_index.parquet" in (
        inputs["preprocessed_index"].dataset.source)
    for name, given in inputs.items():
        assert {t.key: t.value for t in given.tags}["mlflow.data.context"] == "training"
        whole = parent.data.tags[f"{name}_digest"]
        assert {t.key: t.value for t in given.tags}["sha256"] == whole
        assert whole.startswith(given.dataset.digest)
    ingestion = {a.path for a in client.list_artifacts(parent.info.run_id, "ingestion")}
    preprocessing = {a.path for a in client.list_artifacts(parent.info.run_id, "preprocessing")}
    assert {"ingestion/clip_index.csv", "ingestion/rejected_clips.csv"} <= ingestion
    assert "preprocessing/preprocessed_index.csv" in preprocessing


@pytest.mark.slow
def test_the_registered_version_says_where_it_came_from(tiny_run):
    project, _ = tiny_run
    client, runs = _client(project)
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    (version,) = client.search_model_versions("name='micro-expression-mol'")
    assert "every subject" in version.description
    assert parent.info.run_name in version.description
    assert version.tags["clip_index_digest"] == parent.data.tags["clip_index_digest"]
    assert version.tags["git_commit"] == "unknown" and version.tags["preset"] == "small"
    uf1 = parent.data.metrics["loso.overall.uf1"]
    assert float(version.tags["loso_uf1"]) == pytest.approx(uf1, abs=1e-4)
    alias = client.get_model_version_by_alias("micro-expression-mol", "synthetic")
    assert alias.version == version.version
    model = client.get_logged_model(version.source.removeprefix("models:/"))
    assert model.name == "micro-expression-mol"
    assert not model.metrics  # the LOSO scores are the recipe's, not the final model's own
    # each fold's held-out scores are linked to the fold's own checkpoint, a logged model
    for fold in [r for r in runs if r.data.tags.get("mlflow.parentRunId")]:
        (checkpoint,) = client.search_logged_models(
            [parent.info.experiment_id], filter_string=f"source_run_id = '{fold.info.run_id}'"
        )
        assert checkpoint.name == fold.data.tags["fold"]
        assert checkpoint.model_type == "fold-checkpoint" and checkpoint.status == "READY"
        assert [a.path for a in client.list_logged_model_artifacts(checkpoint.model_id)] == [
            f"{checkpoint.name}.pt"
        ]
        linked = {m.key: m for m in checkpoint.metrics or []}
        if checkpoint.name == "final":
            assert not linked
            continue
        assert linked["test_uf1"].value == pytest.approx(fold.data.metrics["test_uf1"])
        assert linked["test_uf1"].dataset_name == "preprocessed_index"


def _lineage(project, *args):
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "500"}
    return subprocess.run([kedro, "lineage", *args], cwd=project, capture_output=True,
                          text=True, timeout=300, env=env)


@pytest.mark.slow
def test_lineage_command_follows_a_moved_project_and_catches_changed_data(tiny_run, tmp_path):
    project, _ = tiny_run
    moved = tmp_path / "moved"
    shutil.copytree(project, moved)
    set_parameters(moved, "training", {"training": {"steps": 200}})  # the defaults moved on

    result = _lineage(moved, "models:/micro-expression-mol@synthetic")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "model    micro-expression-mol version 1 (aliases: scored, synthetic)" in out
    assert "commit unknown" in out
    assert "training.steps = 3   (default 200)" in out
    assert "raw dataset (synthetic)   unchanged" in out
    assert "data unchanged since this run" in out

    client, runs = _client(moved)  # the copy's store now points at the copy's artifacts
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.artifact_uri.startswith(str(moved / "mlruns"))
    csv = client.download_artifacts(parent.info.run_id, "ingestion/clip_index.csv", str(tmp_path))
    assert len(pd.read_csv(csv)) == 9

    hashes = client.download_artifacts(parent.info.run_id, "lineage/clip_hashes.csv",
                                       str(tmp_path))
    assert len(pd.read_csv(hashes)) == 9  # the run's per-clip content hashes

    frame = next((moved / "data/01_raw/synthetic").rglob("*.jpg"))
    image = cv2.imread(str(frame))
    cv2.imwrite(str(frame), 255 - image)
    index = pd.read_parquet(moved / "data/02_intermediate/clip_index.parquet")
    relative = str(frame.relative_to(moved))
    (clip,) = [row.clip_id for row in index.itertuples()
               if any(path.endswith(relative) for path in row.frame_paths)]
    result = _lineage(moved, parent.info.run_id)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "raw dataset (synthetic)   CHANGED" in result.stdout
    assert f"changed  {clip}" in result.stdout  # the clip whose frame changed, by name
    assert "clip_index                unchanged" in result.stdout
    assert "DATA CHANGED since this run: raw dataset (synthetic)" in result.stdout

    missing = _lineage(moved, "models:/no-such-model")
    assert missing.returncode == 2 and "cannot follow models:/no-such-model" in missing.stderr


@pytest.mark.slow
def test_one_fold_runs_alone_by_namespace(tiny_run):
    project, _ = tiny_run
    model = project / "data/06_models/folds" / f"{FOLDS[1]}.pt"
    before = model.stat().st_mtime_ns
    result = kedro_run(project, "--namespaces", FOLDS[1])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{FOLDS[1]}.train_and_test_fold" in result.stdout + result.stderr
    assert f"{FOLDS[0]}.train_and_test_fold" not in result.stdout + result.stderr
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
