"""``benchmarks/long_recording.py`` on a tiny trained project, with short recordings, as a
subprocess: its JSON has each recording's windows, all scored, with the node's own time."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "long_recording.py"


@pytest.mark.slow
def test_the_benchmark_scores_each_length_in_windows_and_measures_its_memory(trained_project,
                                                                             tmp_path):
    output = tmp_path / "long_recording.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--seconds", "2", "1", "--fps", "100",
         "--project", str(trained_project), "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    figures = json.loads(output.read_text())
    assert [r["frames"] for r in figures["recordings"]] == [100, 200]
    for recording in figures["recordings"]:
        assert recording["windows"] > 2 and recording["windows_scored"] == recording["windows"]
        assert 0 < recording["scoring_s"] < recording["run_wall_s"]
        assert recording["peak_rss_tree_mb"] >= recording["peak_rss_largest_process_mb"] > 100
    assert figures["peak_rss_tree_ratio_longest_to_shortest"] > 0
