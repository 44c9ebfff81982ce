"""Kill a preprocessing run mid-way, run again: no corrupt file, only missing clips computed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from micro_expression.io.clip_cache import ClipCache
from micro_expression.pipelines.preprocessing.nodes import preprocess_clips
from tests.preprocessing.clips import FAST_PARAMS, clip_index, write_moving_face_clip

PROJECT_ROOT = Path(__file__).resolve().parents[3]
N_CLIPS = 8

RUN_NODE = """
import json, sys
from micro_expression.pipelines.preprocessing.nodes import preprocess_clips
from micro_expression.io.clip_cache import ClipCache
from tests.preprocessing.clips import FAST_PARAMS, clip_index

if __name__ == "__main__":
    clips = json.loads(open(sys.argv[1]).read())
    preprocess_clips(
        clip_index(clips), {"ingestion_id": None}, ClipCache(sys.argv[2]),
        {**FAST_PARAMS, "workers": 2},
    )
"""


def test_killed_run_resumes_without_corrupt_files(tmp_path):
    clips = {
        f"casme2/sub01/EP{n:02d}": write_moving_face_clip(
            tmp_path / "raw" / f"EP{n:02d}", 9, step=(0.1 * n, 0.05)
        )
        for n in range(1, N_CLIPS + 1)
    }
    clips_file = tmp_path / "clips.json"
    clips_file.write_text(json.dumps(clips))
    script = tmp_path / "run_node.py"
    script.write_text(RUN_NODE)
    folder = tmp_path / "cache"

    process = subprocess.Popen(
        [sys.executable, str(script), str(clips_file), str(folder)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        start_new_session=True,  # its own process group: the kill reaches the workers too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(folder.glob("*.npz"))) < 2:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no clip written in time"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stderr.close()

    survivors = {path.stem for path in folder.glob("*.npz")}
    assert 2 <= len(survivors) < N_CLIPS
    for path in folder.glob("*.npz"):
        with np.load(path) as stored:
            assert stored["flows"].shape == (1, 7, 64, 64, 2)

    index, _, _ = preprocess_clips(
        clip_index(clips), {"ingestion_id": None}, ClipCache(folder), FAST_PARAMS
    )
    cached = set(index.loc[index["status"] == "cached", "content_key"])
    assert cached == survivors
    assert (index["status"] == "computed").sum() == N_CLIPS - len(survivors)
    for path in index["file"]:
        with np.load(path) as stored:
            assert stored["frames"].shape == (1, 8, 64, 64)
