"""Runs whose process was killed are found and closed FAILED; live runs and runs of other
hosts are left alone."""

import os
import signal
import subprocess
import sys
import textwrap

import mlflow
import psutil
import pytest

from micro_expression.lineage.orphans import (
    FAILURE_TAG,
    HOST_TAG,
    PID_TAG,
    STARTED_TAG,
    close_orphan_runs,
    process_gone,
    process_tags,
)

# A process that opens a parent run and a fold run under it, as `kedro run` does, logs a
# metric, says so and waits to be killed.
OPENS_RUNS = textwrap.dedent("""
    import sys, time
    import mlflow
    from micro_expression.lineage.orphans import process_tags
    client = mlflow.MlflowClient(sys.argv[1])
    parent = client.create_run(sys.argv[2], tags=process_tags(), run_name="parent")
    client.log_metric(parent.info.run_id, "clip_index.rows", 9)
    client.create_run(sys.argv[2], run_name="fold_a", tags={
        **process_tags(), "mlflow.parentRunId": parent.info.run_id})
    print(parent.info.run_id, flush=True)
    time.sleep(600)
""")


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    return client, client.create_experiment("e", artifact_location=str(tmp_path / "mlruns"))


def _killed_runs(client: mlflow.MlflowClient, experiment: str) -> str:
    """The id of the parent run a real process opened (with a fold run) before SIGKILL."""
    process = subprocess.Popen(
        [sys.executable, "-c", OPENS_RUNS, client.tracking_uri, experiment],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        parent = process.stdout.readline().strip()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    return parent


def test_runs_of_a_killed_process_are_closed_failed_and_say_why(store):
    client, experiment = store
    parent = _killed_runs(client, experiment)
    alive = client.create_run(experiment, tags=process_tags(), run_name="alive")
    elsewhere = client.create_run(experiment, run_name="elsewhere", tags={
        HOST_TAG: "another-host", PID_TAG: "1", STARTED_TAG: "0"})
    untagged = client.create_run(experiment, run_name="untagged")

    closed = close_orphan_runs(client, "a test")

    assert {run.info.run_name for run, _ in closed} == {"parent", "fold_a"}
    runs = {r.info.run_name: r for r in client.search_runs([experiment])}
    for name in ("parent", "fold_a"):
        assert runs[name].info.status == "FAILED"
        assert "ended without closing the run (found by a test at " in (
            runs[name].data.tags[FAILURE_TAG])
    # ended when it was last seen alive (its metric), not when it was found
    last_metric = client.get_metric_history(parent, "clip_index.rows")[0].timestamp
    assert runs["parent"].info.end_time == max(last_metric, runs["fold_a"].info.start_time)
    for run in (alive, elsewhere, untagged):
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
        assert FAILURE_TAG not in client.get_run(run.info.run_id).data.tags
    assert close_orphan_runs(client, "a test") == []


def test_a_fold_run_left_open_under_an_ended_parent_is_closed(store):
    client, experiment = store
    parent = client.create_run(experiment, run_name="parent")
    fold = client.create_run(experiment, run_name="fold_a",
                             tags={"mlflow.parentRunId": parent.info.run_id})
    client.set_terminated(parent.info.run_id, "FINISHED")

    ((run, reason),) = close_orphan_runs(client, "a test")

    assert run.info.run_id == fold.info.run_id
    assert reason.startswith(f"its parent run {parent.info.run_id} ended while it was open")
    assert client.get_run(fold.info.run_id).info.status == "FAILED"


def test_a_pid_given_to_another_process_since_counts_as_gone():
    mine = process_tags()
    assert not process_gone(mine)
    assert process_gone({**mine, STARTED_TAG: str(psutil.Process().create_time() - 60)})
    assert not process_gone({**mine, HOST_TAG: "another-host", PID_TAG: "999999999"})
    assert not process_gone({})
