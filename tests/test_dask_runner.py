"""`kedro run --runner micro_expression.runner.DaskRunner` on real Dask clusters (2 worker
processes, one thread each) against the sequential runner: same predictions, same MLflow
record; failures name their fold; a worker killed mid-fold costs a retry, not a fold."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml
from mlflow.tracking import MlflowClient

from micro_expression.runner import ClusterSettings
from tests.kedro_project import configure_tiny_run, copy_project, kedro_run

DASK = ("--runner", "micro_expression.runner.DaskRunner")
FOLDS = ["fold_synthetic_sub01", "fold_synthetic_sub02", "fold_synthetic_sub03"]


def _project(root: Path) -> Path:
    project = copy_project(root / "project")
    configure_tiny_run(project, subjects=3)
    (project / "conf" / "local" / "dask.yml").write_text(
        yaml.safe_dump({"n_workers": 2, "threads_per_worker": 1})
    )
    return project


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same tiny project run whole, sequentially and on a LocalCluster."""
    sequential = _project(tmp_path_factory.mktemp("sequential"))
    distributed = _project(tmp_path_factory.mktemp("dask"))
    for project, args in ((sequential, ()), (distributed, DASK)):
        result = kedro_run(project, *args)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return sequential, distributed


def _client(project: Path) -> MlflowClient:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _runs(project: Path) -> tuple[MlflowClient, list]:
    client = _client(project)
    experiment = client.get_experiment_by_name("micro_expression")
    return client, client.search_runs([experiment.experiment_id],
                                      order_by=["attributes.start_time DESC"])


def _record(project: Path) -> dict:
    """What an auditor sees, without values that differ between any two runs (ids, times,
    the number of system metric samples)."""
    client, runs = _runs(project)
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    record = {}
    for run in runs:
        artifacts = [a.path for a in client.list_artifacts(run.info.run_id)]
        nested = [b.path for a in artifacts if "." not in a
                  for b in client.list_artifacts(run.info.run_id, a)]
        record[run.data.tags.get("fold", "parent")] = {
            "status": run.info.status,
            "tags": sorted(set(run.data.tags) - {"mlflow.runName"}),
            "params": {k: v for k, v in run.data.params.items()},
            "metric_points": {  # system metrics sample the machine every 10 s, however long
                name: len(client.get_metric_history(run.info.run_id, name))
                for name in run.data.metrics if not name.startswith("system/")
            },
            "inputs": sorted(i.dataset.name for i in run.inputs.dataset_inputs),
            "artifacts": sorted(artifacts + nested),
        }
    (version,) = client.search_model_versions(f"run_id = '{parent.info.run_id}'")
    record["registered"] = {
        "tags": sorted(version.tags), "described": bool(version.description),
        "alias": client.get_model_version_by_alias(version.name, "synthetic").version,
    }
    return record


@pytest.mark.slow
def test_dask_run_predicts_and_records_what_the_sequential_run_does(runs):
    sequential, distributed = runs
    for fold in FOLDS:
        name = f"data/07_model_output/fold_predictions/{fold}.parquet"
        pd.testing.assert_frame_equal(pd.read_parquet(sequential / name),
                                      pd.read_parquet(distributed / name))
    scores = "data/08_reporting/loso_scores.csv"
    pd.testing.assert_frame_equal(pd.read_csv(sequential / scores),
                                  pd.read_csv(distributed / scores))
    index = "data/03_primary/preprocessed_index.parquet"  # clips preprocessed on the cluster
    pd.testing.assert_frame_equal(pd.read_parquet(sequential / index).drop(columns="file"),
                                  pd.read_parquet(distributed / index).drop(columns="file"))

    expected, actual = _record(sequential), _record(distributed)
    assert set(actual) == {"parent", "final", *FOLDS, "registered"}
    for key in expected:
        assert actual[key] == expected[key], key
    assert actual["parent"]["metric_points"]["loso.overall.uf1"] == 1


@pytest.mark.slow
def test_a_failing_fold_fails_the_run_on_an_existing_scheduler_naming_the_fold(
    runs, monkeypatch
):
    from distributed import LocalCluster

    _, project = runs
    monkeypatch.chdir(project)  # workers start where the project is, as on a shared disk
    # Damaged clips, restored afterwards for the module's other tests: a failure only the
    # folds meet (bad parameters stop the run before it).
    clips = {path: path.read_bytes()
             for path in (project / "data" / "03_primary" / "preprocessed").glob("*.npz")}
    try:
        for path in clips:
            path.write_bytes(b"truncated")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
            result = kedro_run(project, *DASK, "--pipelines", "training,evaluation")
            assert len(cluster.workers) == 2  # the run used this cluster and left it standing
    finally:
        for path, content in clips.items():
            path.write_bytes(content)
    assert clips and result.returncode != 0
    output = result.stdout + result.stderr
    assert re.search(r"train_(and_test_)?fold \(fold ", output), output[-3000:]
    assert "failed on the Dask cluster" in output
    assert "cannot read cached clip" in output
    _, all_runs = _runs(project)
    latest = next(r for r in all_runs if "mlflow.parentRunId" not in r.data.tags)
    folds = [r for r in all_runs if r.data.tags.get("mlflow.parentRunId") == latest.info.run_id]
    assert "FAILED" in {r.info.status for r in folds}
    assert "FINISHED" not in {r.info.status for r in folds}
    assert latest.info.status == "FAILED"
    assert "loso.overall.uf1" not in latest.data.metrics


def _dask_workers(process: psutil.Process) -> list[psutil.Process]:
    """The worker processes a LocalCluster started under ``process``."""
    return [
        child for child in process.children(recursive=True)
        if "spawn_main" in " ".join(child.cmdline())
    ]


def _run_and_kill_workers(project: Path, env: dict[str, str]) -> tuple[int, list, str]:
    """A Dask `kedro run` of training and evaluation whose workers are all killed once, while
    a fold trains: (exit status, this run's MLflow runs, its output)."""
    client = _client(project)
    experiment = client.get_experiment_by_name("micro_expression").experiment_id
    before = {r.info.run_id for r in client.search_runs([experiment])}
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "COLUMNS": "500",
           **env}
    log_path = project / "killed_worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [kedro, "run", *DASK, "--pipelines", "training,evaluation",
             "--params", "training.steps=25"],
            cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            killed = False
            deadline = time.monotonic() + 300
            while not killed and time.monotonic() < deadline:
                time.sleep(0.5)
                running = [r for r in client.search_runs([experiment])
                           if r.info.run_id not in before and "fold" in r.data.tags
                           and r.info.status == "RUNNING"]
                workers = _dask_workers(psutil.Process(process.pid))
                if running and workers:
                    for worker in workers:
                        worker.kill()  # the nannies start new ones
                    killed = True
            assert killed, "no fold started within 5 minutes"
            status = process.wait(timeout=600)
        finally:
            process.kill()
    runs = [r for r in client.search_runs([experiment]) if r.info.run_id not in before]
    return status, runs, log_path.read_text()


@pytest.mark.slow
def test_a_worker_killed_mid_fold_costs_a_retry_not_a_fold(runs):
    _, project = runs
    status, new_runs, output = _run_and_kill_workers(project, {})
    assert status == 0, output[-5000:]
    (parent,) = [r for r in new_runs if "mlflow.parentRunId" not in r.data.tags]
    folds = [r for r in new_runs if "fold" in r.data.tags]
    finished = sorted(r.data.tags["fold"] for r in folds if r.info.status == "FINISHED")
    assert finished == sorted([*FOLDS, "final"])  # every fold once, the retries included
    abandoned = [r for r in folds if r.info.status == "FAILED"]
    assert abandoned, "the killed worker's fold run was not closed as FAILED"
    assert {r.info.status for r in folds} <= {"FINISHED", "FAILED"}
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["loso.overall.n_clips"] == 9


@pytest.mark.slow
def test_a_fold_whose_worker_dies_beyond_retries_fails_the_run_naming_it(runs):
    _, project = runs
    no_retry = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    status, new_runs, output = _run_and_kill_workers(project, no_retry)
    assert status != 0
    assert "(fold " in output and "its worker died" in output
    (parent,) = [r for r in new_runs if "mlflow.parentRunId" not in r.data.tags]
    folds = [r for r in new_runs if "fold" in r.data.tags]
    assert "FAILED" in {r.info.status for r in folds}
    assert "RUNNING" not in {r.info.status for r in folds}  # none left open
    assert parent.info.status == "FAILED"
    assert "loso.overall.uf1" not in parent.data.metrics


def test_cluster_settings_come_from_dask_yml_and_the_environment():
    assert ClusterSettings.from_config({}, {}) == ClusterSettings()
    settings = ClusterSettings.from_config(
        {"n_workers": 4}, {"DASK_SCHEDULER_ADDRESS": "tcp://s:8786"}
    )
    assert settings.scheduler_address == "tcp://s:8786" and settings.n_workers == 4
    with pytest.raises(ValueError, match=r"unknown keys \['workers'\]"):
        ClusterSettings.from_config({"workers": 2}, {})
    with pytest.raises(ValueError, match="n_workers"):
        ClusterSettings.from_config({"n_workers": 0}, {})


def test_an_unreachable_scheduler_stops_the_run_within_the_configured_timeout():
    import socket

    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # In a subprocess: a client that never connected stays distributed's "current" one.
    script = (
        "from micro_expression.runner import ClusterSettings, cluster_client\n"
        f"settings = ClusterSettings(scheduler_address='tcp://127.0.0.1:{port}', "
        "connect_timeout=2)\n"
        "with cluster_client(settings):\n    pass\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False, env={**os.environ, "COLUMNS": "500"})
    assert done.returncode != 0
    assert (f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 2 s "
            "(dask.yml connect_timeout)") in " ".join(done.stderr.split())
    assert time.monotonic() - started < 30
    with pytest.raises(ValueError, match="connect_timeout must be > 0"):
        ClusterSettings.from_config({"connect_timeout": 0}, {})
