"""``benchmarks/model_size.py`` at one step of the small preset, as a subprocess: its JSON."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "model_size.py"
PARTS = {"encoding", "conv_stack", "f5c", "mer_head", "flow_net", "landmark_head"}


def test_the_benchmark_counts_and_times_the_small_preset(tmp_path):
    output = tmp_path / "model_size.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--threads", "1", "--steps", "1", "--runs", "small:1",
         "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert (figures["threads"], figures["channels_last"]) == (1, True)
    assert list(figures["presets"]) == ["small"]
    small = figures["presets"]["small"]
    assert small["batch"] == 1
    counts = small["parameters"]
    assert set(counts) == PARTS | {"total"}
    assert 0 < sum(counts[part] for part in PARTS) <= counts["total"]
    assert 0 < small["step_wall_seconds_min"] <= small["step_wall_seconds_median"]
    assert small["step_cpu_seconds_median"] > 0
