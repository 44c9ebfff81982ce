"""Runs left RUNNING by a process that died (killed, out of memory, a lost shell), closed as
FAILED by the next ``kedro run`` or ``kedro lineage``.

Each run is tagged with the host, pid and start time of the process that writes it; a run
still RUNNING whose process on this host is gone can never be finished, and a fold run still
RUNNING under a parent that has ended was abandoned with it. Runs of other hosts are left to
those hosts: their processes cannot be seen from here.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import mlflow
import psutil
from mlflow.entities import Run, RunStatus

HOST_TAG, PID_TAG, STARTED_TAG = "process.host", "process.pid", "process.started"
FAILURE_TAG = "failure_reason"
"""Why a run that its own process never closed was marked FAILED."""
PARENT_TAG = "mlflow.parentRunId"
START_TOLERANCE_S = 1.0  # start times are read back from the kernel's clock ticks


def process_tags() -> dict[str, str]:
    """Host, pid and start time of this process: enough to tell later whether it still runs
    (a pid alone may have been given to another process since)."""
    me = psutil.Process()
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(me.pid),
            STARTED_TAG: f"{me.create_time():.3f}"}


def process_gone(tags: dict[str, str]) -> bool:
    """Whether the process ``tags`` name ran on this host and has ended (False when they name
    no process, or one on another host)."""
    if tags.get(HOST_TAG) != socket.gethostname() or PID_TAG not in tags:
        return False
    try:
        process = psutil.Process(int(tags[PID_TAG]))
        if process.status() == psutil.STATUS_ZOMBIE:  # killed, not yet reaped by its parent
            return True
        started = process.create_time()
    except psutil.NoSuchProcess:
        return True
    except (psutil.Error, ValueError):  # a process that cannot be read is not judged
        return False
    recorded = float(tags.get(STARTED_TAG, started))
    return abs(started - recorded) > START_TOLERANCE_S


def orphan_reasons(running: dict[str, Run], found_by: str) -> dict[str, str]:
    """``{run id: reason}`` for the ``running`` runs that can never finish."""
    found = f"found by {found_by} at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
    reasons = {
        run_id: (f"process {run.data.tags[PID_TAG]} on {run.data.tags[HOST_TAG]} ended "
                 f"without closing the run ({found})")
        for run_id, run in running.items() if process_gone(run.data.tags)
    }
    for run_id, run in running.items():
        parent = run.data.tags.get(PARENT_TAG)
        if run_id not in reasons and parent and (parent not in running or parent in reasons):
            reasons[run_id] = f"its parent run {parent} ended while it was open ({found})"
    return reasons


def last_sign_of_life(client: mlflow.MlflowClient, run: Run) -> int:
    """The latest time (ms) ``run`` is known to have been alive: its start, its metrics, and
    the starts and ends of its child runs. The run's end time: when it died is unknown, and
    the time it was found would make it look as if it ran until then."""
    times = [run.info.start_time]
    for key in run.data.metrics:
        times += [m.timestamp for m in client.get_metric_history(run.info.run_id, key)]
    children = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    times += [t for c in children for t in (c.info.start_time, c.info.end_time) if t]
    return max(times)


def close_orphan_runs(client: mlflow.MlflowClient, found_by: str) -> list[tuple[Run, str]]:
    """Mark FAILED, with a :data:`FAILURE_TAG` saying why, every RUNNING run of the store
    that can never finish (see module docstring); the runs closed, with their reasons."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return []
    running = {
        run.info.run_id: run
        for run in client.search_runs(experiments, "attributes.status = 'RUNNING'")
    }
    closed = []
    for run_id, reason in orphan_reasons(running, found_by).items():
        run = running[run_id]
        client.set_tag(run_id, FAILURE_TAG, reason)
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED),
                              last_sign_of_life(client, run))
        closed.append((run, reason))
    return closed
