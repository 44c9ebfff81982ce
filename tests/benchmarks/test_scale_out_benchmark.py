"""``benchmarks/scale_out.py`` on a tiny project copy, sequential against one Dask worker, as a
subprocess: its JSON."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.kedro_logs import failure
from tests.kedro_project import configure_tiny_run, copy_project

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "scale_out.py"
FOLD_RUNS = 3  # two subjects' folds and the final model


@pytest.mark.slow
def test_the_sequential_and_dask_runs_train_every_fold(tmp_path):
    project = copy_project(tmp_path / "project")
    configure_tiny_run(project, subjects=2, workers=1)
    output = tmp_path / "results" / "scale_out.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "2", "--workers", "1",
         "--project", str(project), "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, failure(done, output.parent / "workspaces")
    summary = json.loads(output.read_text())
    assert summary["steps"] == 2
    sequential, dask = summary["runs"]
    assert (sequential["runner"], dask["runner"]) == ("sequential", "dask_1")
    for row in (sequential, dask):
        assert row["folds"] == FOLD_RUNS, row["runner"]
        assert row["wall_s"] > row["train_s_mean"] > 0 and row["step_s"] > 0, row["runner"]
    assert dask["speed_up"] == pytest.approx(sequential["wall_s"] / dask["wall_s"], abs=0.01)
    assert summary["dask_overhead_s_per_fold"] == pytest.approx(
        (dask["wall_s"] - sequential["wall_s"]) / FOLD_RUNS, abs=0.01)
    # The workspace is beside the JSON, and the Dask settings it was given are gone again.
    workspace = tmp_path / "results" / "workspaces" / "scale_out"
    assert (workspace / "data" / "05_model_input" / "loso_folds.parquet").is_file()
    assert not (workspace / "conf" / "local" / "dask.yml").exists()
