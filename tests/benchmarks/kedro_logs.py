"""Failure messages of the benchmarks that run `kedro run` in workspaces and log it there."""

import subprocess
from pathlib import Path


def failure(done: subprocess.CompletedProcess, workspaces: Path) -> str:
    """The benchmark's stderr tail, then the tail of its newest `kedro run` log: the error it
    raises only names that log, which lives in a temporary folder."""
    logs = sorted(workspaces.glob("*/logs/*.log"), key=lambda path: path.stat().st_mtime)
    newest = f"\n{logs[-1]}:\n{logs[-1].read_text()[-5000:]}" if logs else ""
    return done.stderr[-3000:] + newest
