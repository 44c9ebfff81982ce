"""``benchmarks/startup.py`` once per command in a tiny project copy, as a subprocess: its JSON."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kedro_project import configure_tiny_run, copy_project

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "startup.py"


@pytest.mark.slow
def test_the_benchmark_times_each_command_in_a_tiny_project(tmp_path):
    # A copy: the synthetic run writes its corpus (on the warm-up) into the project it runs in.
    project = copy_project(tmp_path / "project")
    configure_tiny_run(project, subjects=2)
    output = tmp_path / "startup.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repeats", "1", "--project", str(project),
         "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert set(figures) == {"import", "registry", "synthetic"}
    for name, figure in figures.items():
        (run,) = figure["runs_s"]
        assert figure["median_s"] == run > 0, name
    # The commands ran in the copy: its corpus, generated there, and its own MLflow store.
    assert len(list(project.glob("data/01_raw/synthetic/CASME2_RAW_selected/sub*/*"))) == 6
    assert (project / "mlflow.db").is_file()
