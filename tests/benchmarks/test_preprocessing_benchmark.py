"""``benchmarks/preprocessing.py`` on a tiny generated corpus, as a subprocess (it had broken
unnoticed when the ingestion parameters changed)."""

import json
import subprocess
import sys
from pathlib import Path

from micro_expression.synthetic import generate_corpus

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "preprocessing.py"


def test_the_benchmark_runs_on_a_tiny_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    generate_corpus({"subjects": 1, "clips_per_class": 1, "frame_count": [10, 10],
                     "seed": 3}).write(corpus)
    output = tmp_path / "preprocessing.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--corpus", str(corpus), "--workers", "1", "--clips", "2",
         "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["corpus"]["clips"] == 2
    assert set(results["modes"]) == {"per_clip", "per_frame"}
    per_clip = results["modes"]["per_clip"]
    assert per_clip["clips"] == 2 and "stabilise" in per_clip["stage_worker_s"]
    assert 0 <= per_clip["quality"]["rigid_residual_px"] < 0.2
    assert results["no_change_rerun"]["computed"] == 0
