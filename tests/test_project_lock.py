"""One `kedro run` at a time per project: a second is refused, naming the first; a killed
run leaves no lock behind."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.framework.hooks import _create_hook_manager
from kedro.framework.hooks.manager import _register_hooks, _register_hooks_entry_points
from kedro.framework.startup import bootstrap_project

from micro_expression.project_lock import ProjectBusyError, acquire, lock_path
from tests.kedro_project import configure_tiny_run, copy_project, kedro_run

HOLD = """
import sys, time
from pathlib import Path
from micro_expression.project_lock import acquire
acquire(Path(sys.argv[1]), "kedro run --pipelines preprocessing")
print("held", flush=True)
time.sleep(600)
"""


def _runs(project: Path) -> list[tuple[str]]:
    with sqlite3.connect(project / "mlflow.db") as store:
        return store.execute("select status from runs").fetchall()


@pytest.fixture
def project(tmp_path):
    """A project copy whose synthetic pipeline (one subject) runs in seconds."""
    root = copy_project(tmp_path / "project")
    configure_tiny_run(root, subjects=1)
    return root


def test_a_run_while_another_holds_the_project_is_refused_naming_the_holder(project):
    held = acquire(project, "kedro run --pipelines training")
    try:
        # A lock that waited instead of refusing would run into this timeout.
        result = kedro_run(project, "--pipelines", "synthetic", timeout=180)
    finally:
        held.release()

    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert f"Another run holds this project's lock {lock_path(project)}" in output
    assert f"pid {os.getpid()} on {socket.gethostname()}, started " in output
    assert "running: kedro run --pipelines training" in output
    assert "they run one at a time: wait until it ends, or stop it" in output
    assert not (project / "data" / "01_raw" / "synthetic").exists()
    assert _runs(project) == []


def test_a_lock_whose_holder_was_killed_does_not_block_the_next_run(project):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(project)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(ProjectBusyError, match=f"pid {holder.pid} on "):
            acquire(project, "a second run")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert lock_path(project).read_text()  # the killed holder's details are still there

    result = kedro_run(project, "--pipelines", "synthetic", timeout=300)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (project / "data" / "01_raw" / "synthetic").is_dir()
    assert _runs(project) == [("FINISHED",)]
    assert lock_path(project).read_text() == ""  # the run cleared its details on release


FAILING_SESSION = """
import sys
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError
from micro_expression.project_lock import acquire

project = sys.argv[1]
bootstrap_project(project)
try:
    with KedroSession.create(project_path=project) as session:
        session.run(pipeline_names=["splitting"])  # no clip index yet: its first node fails
except DatasetError:
    acquire(project, "the next run").release()
    print("released")
"""


def test_a_run_that_fails_in_a_session_releases_the_lock(project):
    """A session's process lives on after its run (a notebook, a test): the lock must not.
    In a process of its own, so the failed run's MLflow state stays out of later tests."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    result = subprocess.run([sys.executable, "-c", FAILING_SESSION, str(project)], cwd=project,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().endswith("released")


def test_the_lock_is_taken_after_the_parameter_check_and_before_mlflow_opens_the_run():
    """Hooks in the order KedroSession registers them: this project's, then the plugins'."""
    from kedro.framework.project import settings

    bootstrap_project(Path(__file__).resolve().parents[1])
    manager = _create_hook_manager()
    _register_hooks(manager, settings.HOOKS)
    _register_hooks_entry_points(manager, settings.DISABLE_HOOKS_FOR_PLUGINS)

    def called(hook: str) -> list[str]:  # pluggy calls the last of its list first
        return [type(i.plugin).__name__ for i in reversed(getattr(manager.hook, hook)
                                                          .get_hookimpls())]

    before = called("before_pipeline_run")
    assert before.index("ParameterCheckHooks") < before.index("ProjectLockHooks") \
        < before.index("MlflowHook")
    assert called("after_pipeline_run")[-1] == "ProjectLockHooks"
    assert called("on_pipeline_error")[-1] == "ProjectLockHooks"
