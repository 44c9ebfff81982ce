"""``benchmarks/stabilisation.py`` at a tiny size, as a subprocess: its table and JSON."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "stabilisation.py"


def test_the_tiny_benchmark_shows_ecc_removing_the_head_motion(tmp_path):
    output = tmp_path / "stabilisation.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--head-motion", "3.6", "--methods", "none", "ecc",
         "--subjects", "1", "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| 3.6 | ecc | 3 |" in done.stdout
    point = json.loads(output.read_text())["points"]["3.6"]
    assert set(point) == {"none", "ecc"}
    none, ecc = point["none"], point["ecc"]
    assert none["clips"] == ecc["clips"] == 3 and not ecc["rejected"]
    assert none["rigid_residual_px"]["mean"] > 0.5
    assert ecc["rigid_residual_px"]["mean"] < 0.1
    assert ecc["rigid_residual_px"]["p95"] >= ecc["rigid_residual_px"]["mean"]
    assert ecc["expression_epe"]["mean"] < none["expression_epe"]["mean"]
