"""``benchmarks/flow_targets.py`` on one clip of a tiny preprocessed project, as a subprocess:
its JSON."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "flow_targets.py"
PAIRS = 7  # a sample's 8 frames: 7 consecutive pairs, 7 onset-referenced ones
ONSET_CANDIDATES = ("onset_referenced", "fine_crop + onset_referenced",
                    "gain + onset_referenced")


@pytest.mark.slow
def test_the_benchmark_compares_the_candidates_on_one_clip(preprocessed_project, tmp_path):
    output = tmp_path / "flow_targets.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--clips", "1", "--no-variants",
         "--project", str(preprocessed_project), "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    (clip,) = results["clips"]
    assert clip.startswith("synthetic/sub01/")
    assert results["baseline_tvl1_cpu_s_per_clip"] > 0
    rows = {row["name"]: row for row in results["candidates"]}
    # The stored and recomputed flows, eight candidates, and the consecutive flows derived
    # from each onset-referenced one; no variants.
    assert len(rows) == len(results["candidates"]) == 2 + 8 + len(ONSET_CANDIDATES)
    assert {"stored (cache)", "recomputed (configured TV-L1, 144 px)", *ONSET_CANDIDATES,
            *(f"{name} -> derived" for name in ONSET_CANDIDATES)} <= set(rows)
    assert results["best"] in rows
    for name, row in rows.items():
        assert row["pairs"] == PAIRS, name
        assert row["flow_epe"] > 0 and row["flow_epe_zero"] > 0, name
        assert math.isclose(row["ratio"], row["flow_epe"] / row["flow_epe_zero"]), name
    assert rows["recomputed (configured TV-L1, 144 px)"]["cost_vs_baseline"] == 1.0
    assert rows["onset_referenced"]["target"] == "onset 0->k"
