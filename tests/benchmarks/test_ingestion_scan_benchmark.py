"""``benchmarks/ingestion_scan.py`` on two clips of three frames, as a subprocess: its JSON."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "ingestion_scan.py"


def test_the_benchmark_scans_every_frame_of_a_tiny_tree(tmp_path):
    output = tmp_path / "ingestion_scan.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--clips", "2", "--frames", "3", "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert (figures["clips"], figures["frames"]) == (2, 6)
    assert figures["frame_size"] == [640, 480]
    # Six frames scan in milliseconds: the rounded seconds may read 0, the rate may not.
    assert figures["seconds"] >= 0 and figures["frames_per_second"] > 0
    assert figures["megabytes"] > 0
