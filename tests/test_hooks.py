"""Lineage of a real `kedro run`: tags, digests, counts, dataset inputs and artifacts in MLflow."""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.pipeline import node
from kedro_datasets.pandas import ParquetDataset
from mlflow.tracking import MlflowClient

import micro_expression
from micro_expression.cluster import run_on_cluster
from micro_expression.hooks import LineageHooks
from micro_expression.lineage.ancestry import CLIP_HASHES_ARTIFACT, STAMP_ATTR
from micro_expression.lineage.tables import TRACKED_TABLES
from tests.kedro_project import copy_project, kedro_run
from tests.readers.fixtures import write_casme2


def _git_commit_all(path):
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "project"],
        cwd=path, check=True,
    )
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


def _runs(project):
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("micro_expression")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    return client, runs


@pytest.mark.slow
def test_every_run_records_code_data_digest_counts_and_tables(tmp_path):
    project = copy_project(tmp_path / "project")
    commit = _git_commit_all(project)
    root = write_casme2(tmp_path / "CASME2")
    params = f"dataset.name=casme2,dataset.root={root},dataset.classes=3"

    first = kedro_run(project, "--pipelines", "ingestion", "--params", params)
    assert first.returncode == 0, first.stdout + first.stderr
    second = kedro_run(project, "--pipelines", "ingestion", "--params", params)
    assert second.returncode == 0, second.stdout + second.stderr
    frame = root / "CASME2_RAW_selected" / "sub01" / "EP02_01f" / "img10.jpg"
    image = cv2.imread(str(frame))
    image[:8, :8] = 255 - image[:8, :8]
    cv2.imwrite(str(frame), image)
    third = kedro_run(project, "--pipelines", "ingestion", "--params", params)
    assert third.returncode == 0, third.stdout + third.stderr

    client, runs = _runs(project)
    assert len(runs) == 3
    run = runs[0]
    tags, metrics = run.data.tags, run.data.metrics
    assert tags["git_commit"] == tags["mlflow.source.git.commit"] == commit  # the UI's Version
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # classic ML
    assert run.info.run_name.split(" · ")[-2].endswith(" UTC")
    assert not any(key.startswith("system/") for key in metrics)  # it trains nothing
    assert tags["version.micro_expression"] == micro_expression.__version__
    assert tags["version.mlflow"] == mlflow.__version__
    assert tags["version.kedro"].startswith("1.7")
    assert tags["dataset.name"] == "casme2"
    assert tags["dataset.root"] == str(root)
    index = pd.read_parquet(project / "data" / "02_intermediate" / "clip_index.parquet")
    rejected = pd.read_parquet(project / "data" / "02_intermediate" / "rejected_clips.parquet")
    assert metrics["clip_index.rows"] == len(index) > 0
    assert metrics["clip_index.subjects"] == index.subject.nunique() == 2
    assert metrics["rejected_clips.rows"] == len(rejected) > 0
    assert {k: v for k, v in metrics.items() if k.startswith("clip_index.label.")} == {
        f"clip_index.label.{label}": n for label, n in index.label.value_counts().items()
    }

    digests = [r.data.tags["clip_index_digest"] for r in runs]
    assert digests[0] == digests[1] != digests[2]
    inputs = run.inputs.dataset_inputs
    by_name = {i.dataset.name: i.dataset for i in inputs}
    assert by_name["clip_index"].digest == digests[0][:32]
    assert "data/02_intermediate/clip_index.parquet" in by_name["clip_index"].source
    assert "data/02_intermediate/rejected_clips.parquet" in by_name["rejected_clips"].source
    contexts = {i.dataset.name: {t.key: t.value for t in i.tags}["mlflow.data.context"]
                for i in inputs}
    assert contexts == {"clip_index": "preparation", "rejected_clips": "preparation"}
    assert run.info.run_name.startswith("ingestion · casme2 · ")

    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "ingestion")}
    assert artifacts == {
        f"ingestion/{name}.{kind}" for name in ("clip_index", "rejected_clips")
        for kind in ("parquet", "csv")
    }


def test_outside_git_the_commit_is_unknown(tmp_path):
    project = copy_project(tmp_path / "project")
    root = write_casme2(tmp_path / "CASME2", clips=None)
    result = kedro_run(
        project, "--pipelines", "ingestion", "--params", f"dataset.name=casme2,dataset.root={root}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _, (run,) = _runs(project)
    assert run.data.tags["git_commit"] == "unknown"
    assert "mlflow.source.git.commit" not in run.data.tags
    assert np.isfinite(run.data.metrics["clip_index.rows"])


def test_folds_reading_a_table_at_once_on_dask_record_it_once(monkeypatch, sqlite_tracking):
    """Two workers load the preprocessed index at the same moment (two folds starting): the
    table's tag, counts and dataset input are recorded once, and neither fold fails."""
    from distributed import Client, LocalCluster

    set_tag = mlflow.set_tag

    def slow_set_tag(key, value):  # widens the window between the check and the write
        time.sleep(0.5)
        return set_tag(key, value)

    monkeypatch.setattr(mlflow, "set_tag", slow_set_tag)
    table = pd.DataFrame({"clip_id": ["a", "b", "c"], "subject": ["s1", "s1", "s2"],
                          "content_key": ["k1", "k2", "k3"], "n_samples": [8, 8, 8],
                          "label_id": [0, 1, 2], "label": ["negative", "positive", "surprise"]})
    # a client of the cluster, as the Dask runner's driver holds: without it, a closed client
    # that an earlier test left as distributed's current one would be found instead
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        with mlflow.start_run(experiment_id=sqlite_tracking) as parent:
            def load_on_a_worker():
                mlflow.start_run(run_id=parent.info.run_id)  # as the Dask runner attaches
                LineageHooks().after_dataset_loaded("preprocessed_index", table)

            def fold():
                run_on_cluster(cluster.scheduler_address, load_on_a_worker)

            with ThreadPoolExecutor(2) as pool:
                for loaded in [pool.submit(fold) for _ in range(2)]:
                    loaded.result()
    client = MlflowClient()
    run = client.get_run(parent.info.run_id)
    assert run.data.tags["preprocessed_index_digest"] == TRACKED_TABLES[
        "preprocessed_index"].digest(table)
    assert len(client.get_metric_history(run.info.run_id, "preprocessed_index.rows")) == 1
    assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["preprocessed_index"]


def _clip_index(**hashes):
    clips = sorted(hashes)
    return pd.DataFrame({"clip_id": clips, "subject": [c.split("/")[0] for c in clips],
                         "content_hash": [hashes[c] for c in clips],
                         "label": "positive", "label_id": 1})


def _preprocess(clip_index):
    return clip_index.assign(content_key="k-" + clip_index["content_hash"], n_samples=8)


@pytest.fixture
def preprocessed_apart(tmp_path, sqlite_tracking):
    """A run that reads a clip index and saves the preprocessed index made from it, through
    the catalog's Parquet dataset; (the clip index, the dataset, that run's id)."""
    clip_index = _clip_index(**{"sub01/EP01": "h1", "sub02/EP02": "h2"})
    dataset = ParquetDataset(filepath=str(tmp_path / "preprocessed_index.parquet"))
    preprocess = node(_preprocess, "clip_index", "preprocessed_index", name="preprocess")
    hooks = LineageHooks()
    with mlflow.start_run(experiment_id=sqlite_tracking) as making:
        hooks.after_dataset_loaded("clip_index", clip_index)
        preprocessed = _preprocess(clip_index)
        hooks.before_dataset_saved("preprocessed_index", preprocessed, preprocess)
        dataset.save(preprocessed)
        hooks.after_dataset_saved("preprocessed_index", preprocessed)
    return clip_index, dataset, making.info.run_id


def test_a_run_that_reads_preprocessed_data_inherits_the_clip_index_it_was_made_from(
    preprocessed_apart, sqlite_tracking, tmp_path
):
    clip_index, dataset, making = preprocessed_apart
    with mlflow.start_run(experiment_id=sqlite_tracking) as training:  # reads no clip index
        loaded = dataset.load()
        LineageHooks().after_dataset_loaded("preprocessed_index", loaded)
    client = MlflowClient()
    tags = client.get_run(training.info.run_id).data.tags
    assert tags["clip_index_digest"] == TRACKED_TABLES["clip_index"].digest(clip_index)
    assert tags["lineage.clip_index"].startswith("from preprocessed_index ")
    assert tags["lineage.clip_index"].endswith(f"written by run {making}")
    assert "lineage.conflict" not in tags
    assert STAMP_ATTR not in loaded.attrs  # the node gets the table as it was made
    hashes = pd.read_csv(client.download_artifacts(training.info.run_id, CLIP_HASHES_ARTIFACT,
                                                   str(tmp_path)))
    assert dict(zip(hashes.clip_id, hashes.content_hash)) == {"sub01/EP01": "h1",
                                                              "sub02/EP02": "h2"}
    made = client.get_run(making).data.tags  # the making run read the clip index itself
    assert made["clip_index_digest"] == tags["clip_index_digest"]
    assert "lineage.clip_index" not in made


@pytest.mark.parametrize("clip_index_first", [True, False])
def test_a_run_reading_another_clip_index_than_its_data_was_made_from_says_so(
    preprocessed_apart, sqlite_tracking, clip_index_first
):
    _, dataset, _ = preprocessed_apart
    newer = _clip_index(**{"sub01/EP01": "h1-new", "sub02/EP02": "h2"})
    hooks = LineageHooks()
    with mlflow.start_run(experiment_id=sqlite_tracking) as run:  # ingestion,training
        loads = [("clip_index", newer), ("preprocessed_index", dataset.load())]
        for name, table in loads if clip_index_first else loads[::-1]:
            hooks.after_dataset_loaded(name, table)
    tags = MlflowClient().get_run(run.info.run_id).data.tags
    assert tags["clip_index_digest"] == TRACKED_TABLES["clip_index"].digest(newer)
    assert "lineage.clip_index" not in tags  # the digest is the run's own
    assert "clip_index" in tags["lineage.conflict"]
    assert TRACKED_TABLES["clip_index"].digest(newer)[:12] in tags["lineage.conflict"]
