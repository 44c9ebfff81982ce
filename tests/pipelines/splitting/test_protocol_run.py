"""The dataset protocols end to end: `kedro run --params` over a generated two-part composite,
and a corpus in the CAS(ME)^3 layout, through the real CLI in a project copy."""

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.kedro_project import configure_tiny_run, copy_project, kedro_run

PARTS = ["synthetic_casme2", "synthetic_mmew"]


def _runs(project):
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("micro_expression")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags], runs


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("protocols") / "project")
    configure_tiny_run(project, subjects=4)
    return project


@pytest.mark.slow
def test_leave_one_dataset_out_over_a_generated_composite(project):
    result = kedro_run(project, "--params",
                       "synthetic.layout=casme2+mmew,splitting.protocol=leave_one_dataset_out")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    index = pd.read_parquet(project / "data/02_intermediate/clip_index.parquet")
    assert sorted(index["dataset"].unique()) == PARTS
    folds = pd.read_parquet(project / "data/05_model_input/loso_folds.parquet")
    assert sorted(folds["fold"].unique()) == ["final", *(f"fold_{p}" for p in PARTS)]
    for part in PARTS:
        fold = folds[folds["fold"] == f"fold_{part}"]
        assert set(fold.loc[fold["role"] == "test", "dataset"]) == {part}
        assert set(fold.loc[fold["role"] == "train", "dataset"]) == set(PARTS) - {part}
        predictions = pd.read_parquet(
            project / "data/07_model_output/fold_predictions" / f"fold_{part}.parquet")
        assert set(predictions["dataset"]) == {part}

    parents, runs = _runs(project)
    parent = parents[-1]
    assert parent.data.params["splitting.protocol"] == "leave_one_dataset_out"
    for part in PARTS:  # scores per held-out dataset, beside the overall ones
        assert 0.0 <= parent.data.metrics[f"loso.{part}.uf1"] <= 1.0
    folds_run = {r.data.tags["fold"]: r for r in runs
                 if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert set(folds_run) == {"final", *(f"fold_{p}" for p in PARTS)}
    for part in PARTS:
        tags = folds_run[f"fold_{part}"].data.tags
        assert tags["held_out_dataset"] == part and "held_out_subject" not in tags


@pytest.mark.slow
def test_a_corpus_in_the_casme3_layout_runs_after_another_layout(project):
    """Run after the composite: its clip index on disk names other subjects, and the folds
    still follow the run's own --params."""
    result = kedro_run(project, "--params", "synthetic.layout=casme3")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    index = pd.read_parquet(project / "data/02_intermediate/clip_index.parquet")
    assert set(index["dataset"]) == {"synthetic_casme3"}
    assert index["subject"].str.startswith("synthetic_casme3/spNO.").all()
    assert len(index) == 4 * 3
    parent = _runs(project)[0][-1]
    assert parent.data.params["synthetic.layout"] == "casme3"
    assert 0.0 <= parent.data.metrics["loso.overall.uf1"] <= 1.0


@pytest.mark.slow
def test_cross_dataset_trains_on_two_generated_parts_and_tests_on_the_third(project):
    result = kedro_run(project, "--params", ",".join([
        "synthetic.layout=casme2+samm+mmew", "splitting.protocol=cross_dataset",
        "splitting.train_datasets=synthetic_casme2+synthetic_samm",
        "splitting.test_datasets=synthetic_mmew"]))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    folds = pd.read_parquet(project / "data/05_model_input/loso_folds.parquet")
    assert sorted(folds["fold"].unique()) == ["final", "fold_synthetic_mmew"]
    fold = folds[folds["fold"] == "fold_synthetic_mmew"]
    assert set(fold.loc[fold["role"] == "train", "dataset"]) == {"synthetic_casme2",
                                                                "synthetic_samm"}
    assert set(fold.loc[fold["role"] == "test", "dataset"]) == {"synthetic_mmew"}
    assert set(folds.loc[folds["fold"] == "final", "dataset"]) == {"synthetic_casme2",
                                                                  "synthetic_samm"}
    parent = _runs(project)[0][-1]
    assert 0.0 <= parent.data.metrics["loso.synthetic_mmew.uf1"] <= 1.0
    assert "loso.synthetic_casme2.uf1" not in parent.data.metrics
