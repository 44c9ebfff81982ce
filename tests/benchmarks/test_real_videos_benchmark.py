"""``benchmarks/real_videos.py`` at a tiny size, as a subprocess: its JSON, and its skip."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from micro_expression.real_videos import MEDIA_ENV, MediaUnavailable, fetch_video

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "real_videos.py"
VIDEO = "carphone_pristine.mp4"  # the smallest: 176x144
TINY = ["--frames", "12", "--window", "12", "--stabilisation", "none"]


def run_benchmark(video, output, env=None):
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--videos", video, *TINY, "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, env=env, check=False,
    )


def test_the_tiny_benchmark_scores_one_window(tmp_path):
    try:
        fetch_video(VIDEO)
    except MediaUnavailable as error:
        pytest.skip(f"real videos cannot be fetched here: {error.reason}")
    output = tmp_path / "real_videos.json"
    done = run_benchmark(VIDEO, output)
    assert done.returncode == 0, done.stderr
    assert f"| {VIDEO} | none | 1 / 1 |" in done.stdout
    results = json.loads(output.read_text())
    assert {"machine", "args", "configs", "rigid_mask", "flow", "videos", "rows"} <= set(results)
    assert results["configs"]["none"]["frames_per_sample"] == 8
    (row,) = results["rows"]
    assert {"video", "stabilisation", "windows_scored", "windows_total", "share_aligned",
            "rigid_motion_median_px", "rigid_motion_p90_px", "face_motion_median_px",
            "none_over_x", "seconds_per_window", "rejections_by_stage"} <= set(row)
    assert (row["video"], row["stabilisation"], row["windows_scored"]) == (VIDEO, "none", 1)
    assert math.isfinite(row["rigid_motion_median_px"]) and row["rigid_motion_median_px"] >= 0
    assert row["rigid_motion_p90_px"] >= row["rigid_motion_median_px"]
    assert row["none_over_x"] == 1.0
    (window,) = results["videos"][VIDEO]["stabilisation"]["none"]["windows"]
    (sample,) = window["samples"]
    assert len(sample["rigid_px"]) == 7 and sample["nose_bridge_px"] > 0


def test_without_the_videos_it_says_skipped_and_exits_0(tmp_path):
    # An npm video, an empty cache and no npm on PATH: the fetch cannot happen.
    env = {**os.environ, "PATH": str(tmp_path), MEDIA_ENV: str(tmp_path / "media")}
    output = tmp_path / "real_videos.json"
    done = run_benchmark("cap13_edit2.mp4", output, env)
    assert done.returncode == 0, done.stderr
    assert "skipped: the real videos cannot be fetched here: npm is not on PATH" in done.stdout
    assert not output.exists()
