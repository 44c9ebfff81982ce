"""splitting -> training -> evaluation through a KedroSession, tracked in MLflow."""

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from micro_expression.pipelines.preprocessing.nodes import describe_preprocessing
from micro_expression.tracking import REGISTERED_MODELS
from tests.kedro_project import copy_project, set_parameters
from tests.training.corpus import write_corpus

FOLDS = ["fold_synthetic_sub01", "fold_synthetic_sub02", "fold_synthetic_sub03"]
RUNTIME_PARAMS = {
    "training": {"steps": 2, "batch_size": 3, "threads": 1, "schedule": {"warmup_steps": 0}}
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project's config around a 3-subject preprocessed corpus."""
    root = copy_project(tmp_path / "project")
    index = write_corpus(root / "data" / "03_primary" / "preprocessed", subjects=3)
    index.to_parquet(root / "data" / "03_primary" / "preprocessed_index.parquet")
    (root / "data" / "03_primary" / "preprocessing_manifest.json").write_text(json.dumps(
        describe_preprocessing(index, index.assign(n_frames=8), {"crop_size": 144})
    ))
    # The fold pipelines are built from the generated corpus' plan: its 3 subjects.
    set_parameters(root, "synthetic", {"synthetic": {"subjects": 3}})
    clip_index = root / "data" / "02_intermediate" / "clip_index.parquet"
    index[["clip_id", "subject"]].to_parquet(clip_index)
    monkeypatch.chdir(root)
    bootstrap_project(root)
    return root


def run(root: Path, params: dict | None = None, **kwargs) -> str:
    """Run in a fresh session; returns the id of the MLflow run kedro-mlflow opened."""
    with KedroSession.create(project_path=root, runtime_params=params or RUNTIME_PARAMS) as session:
        session.run(**kwargs)
    parent = mlflow.last_active_run().info.run_id
    # kedro-mlflow resumes its run (nested: True) before every node, which stacks it once per
    # node in this process; `kedro run` exits instead, so end the copies left here.
    while mlflow.active_run() is not None:
        mlflow.end_run()
    return parent


def children(client: mlflow.MlflowClient, parent: str) -> dict[str, mlflow.entities.Run]:
    runs = client.search_runs(
        [client.get_run(parent).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent}'",
    )
    return {r.data.tags["fold"]: r for r in runs}


def test_loso_runs_log_folds_in_nested_runs_and_register_the_final_models(project):
    parent = run(project, pipeline_names=["splitting", "training", "evaluation"])

    predictions = pd.read_parquet(project / "data/07_model_output/loso_predictions.parquet")
    assert len(predictions) == 9 and predictions["clip_id"].is_unique
    assert set(predictions["fold"]) == set(FOLDS)
    assert (predictions["fold"] == "fold_" + predictions["subject"].str.replace("/", "_")).all()
    scores = pd.read_csv(project / "data/08_reporting/loso_scores.csv")
    assert scores["scope"].tolist() == ["overall", "synthetic"]
    assert (project / "data/06_models/folds/final.pt").is_file()

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    folds = children(client, parent)
    assert set(folds) == {*FOLDS, "final"}
    fold = folds["fold_synthetic_sub02"]
    assert fold.data.tags["held_out_subject"] == "synthetic/sub02"
    assert fold.data.params["fold_seed"] == "44"
    assert fold.data.params["steps"] == "2"
    assert [m.step for m in client.get_metric_history(fold.info.run_id, "train_total")] == [1, 2]
    assert fold.data.metrics["test_n_clips"] == 3
    assert "test_uf1" in fold.data.metrics
    (checkpoint,) = client.search_logged_models(
        [fold.info.experiment_id], filter_string=f"source_run_id = '{fold.info.run_id}'"
    )
    assert [a.path for a in client.list_logged_model_artifacts(checkpoint.model_id)] == [
        "fold_synthetic_sub02.pt"
    ]

    top = client.get_run(parent)
    assert "loso.overall.uf1" in top.data.metrics and "loso.synthetic.uar" in top.data.metrics
    artifacts = {a.path for a in client.list_artifacts(parent)}
    expected = {"confusion_matrix.png", "loss_curves", "subject_scores.csv", "loso_scores.csv"}
    assert expected <= artifacts
    assert {a.path for a in client.list_artifacts(parent, "loss_curves")} == {
        f"loss_curves/{f}.png" for f in [*FOLDS, "final"]
    }
    version = client.get_latest_versions(REGISTERED_MODELS["mol"])[0]
    assert version.run_id == parent
    model = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODELS['mol']}/{version.version}")
    assert model.metadata.get_input_schema().input_names() == ["path", "frames"]
    classifier = model.unwrap_python_model().classifier
    assert classifier.classes == ["negative", "positive", "surprise"]
    assert classifier.preprocessing.crop_size == 144
    refused = model.predict(pd.DataFrame({"path": [str(project / "nowhere")]}))
    assert refused["status"].tolist() == ["rejected"]
    assert refused["reason"].iloc[0].startswith("this server reads no paths")

    # One fold alone, by namespace: a new parent run with that fold's nested run only.
    again = run(project, pipeline_names=["training"], namespaces=["fold_synthetic_sub03"])
    assert set(children(client, again)) == {"fold_synthetic_sub03"}

    # After the MOL run: the flow baseline, same folds and layout, its own registered name.
    params = {"training": {**RUNTIME_PARAMS["training"], "model": "flow_baseline"}}
    parent = run(project, params, pipeline_names=["training", "evaluation"])

    predictions = pd.read_parquet(project / "data/07_model_output/loso_predictions.parquet")
    assert len(predictions) == 9 and set(predictions["fold"]) == set(FOLDS)
    assert predictions[["flow_epe", "landmark_nme"]].isna().all().all()  # no such heads
    folds = children(client, parent)
    assert set(folds) == {*FOLDS, "final"}
    assert folds["fold_synthetic_sub01"].data.params["model"] == "flow_baseline"
    assert "loso.overall.uf1" in client.get_run(parent).data.metrics
    assert len(client.search_model_versions(f"name='{REGISTERED_MODELS['mol']}'")) == 1
    version = client.get_latest_versions(REGISTERED_MODELS["flow_baseline"])[0]
    assert version.run_id == parent
    model = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODELS['flow_baseline']}/1")
    assert model.unwrap_python_model().classifier.architecture == "flow_baseline"


def test_a_fold_that_fails_leaves_a_failed_fold_run(project):
    run(project, pipeline_names=["splitting"])
    # Damaged clips: a failure only the fold meets (bad parameters stop the run before it).
    for clip in (project / "data" / "03_primary" / "preprocessed").glob("*.npz"):
        clip.write_bytes(b"truncated")
    with pytest.raises(ValueError, match="cannot read cached clip"):
        run(project, pipeline_names=["training"], namespaces=[FOLDS[0]])
    while mlflow.active_run() is not None:
        mlflow.end_run()
    # The store kedro-mlflow wrote to (mlflow keeps one engine per URI across this process).
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("micro_expression")
    (fold,) = client.search_runs(
        [experiment.experiment_id], f"tags.fold = '{FOLDS[0]}' and attributes.status = 'FAILED'"
    )
    assert fold.info.start_time <= fold.info.end_time
