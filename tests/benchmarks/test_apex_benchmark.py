"""``benchmarks/apex.py`` on a one-subject corpus, as a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "apex.py"


def test_the_benchmark_compares_the_estimates_with_the_sheet(tmp_path):
    output = tmp_path / "apex.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--subjects", "1", "--amplitude", "1", "--output",
         str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (corpus,) = json.loads(output.read_text())["corpora"]
    assert corpus["amplitude_scale"] == 1 and not corpus["rejected"]
    for name in ("motion", "midpoint", "furthest_flow"):
        figures = corpus[name]
        assert figures["clips"] == 9  # 3 classes x 3 clips of one subject
        assert 0 <= figures["exact"] <= figures["within_1"] <= figures["within_2"] <= 1
        assert 0 <= figures["frames_off_median"] <= figures["frames_off_p90"]
    assert "| x1 | motion | 9 |" in done.stdout
