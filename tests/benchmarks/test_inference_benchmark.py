"""``benchmarks/inference.py`` on a tiny trained project, as a subprocess: its JSON (every
route's records scored, or the benchmark would have stopped)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "inference.py"
CLIPS = 6  # two subjects, a clip per class each


@pytest.mark.slow
def test_the_benchmark_times_the_pipeline_python_and_http(trained_project, tmp_path):
    output = tmp_path / "inference.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--requests", "1", "--project", str(trained_project),
         "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    figures = json.loads(output.read_text())
    assert figures["clips"] == CLIPS
    for route in ("pipeline_cold", "pipeline_warm"):
        assert figures[f"{route}_s"] > 0
        assert figures[f"{route}_clips_per_s"] == pytest.approx(CLIPS / figures[f"{route}_s"],
                                                                rel=0.05)
    for name in ("python_s_per_clip", "http_latency_s_median", "http_batch8_clips_per_s"):
        assert figures[name] > 0, name
