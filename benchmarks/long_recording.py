"""Long recordings: a video of ``--seconds`` at ``--fps`` (640x480), scored end to end by
`kedro run --pipelines inference` in a throw-away copy of the project.

The video is the generated corpus' clips (``data/01_raw`` of the project ``--project`` names,
whose registered model scores it: run the default ``kedro run`` first) one after another,
repeated to the length asked, written with OpenCV's MPEG-4 encoder. For each length the
benchmark reports the run's wall time (process start-up and MLflow logging included), the
scoring node's own seconds and their ratio to the recording's duration, the windows scored,
and the peak memory of the run: the resident memory summed over its process tree (the run
and its worker processes, sampled every 0.2 s), and the largest single process. The last
figure is the ratio of the longest recording's peak to the shortest's.
Prints the figures and writes ``benchmarks/results/long_recording.json``.
Usage: ``python benchmarks/long_recording.py [--seconds 15 60] [--fps 200] [--project PATH]
[--output PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import pandas as pd
import psutil

from micro_expression.project_copy import copy_configuration

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "long_recording.json"
CORPUS = Path("data") / "01_raw" / "synthetic" / "CASME2_RAW_selected"  # in the project
SIZE = (640, 480)
NODE_LINE = re.compile(r"(\d+) windows scored in ([\d.]+) s")
SAMPLE_S = 0.2


def corpus_frames(project: Path) -> list[Path]:
    """The corpus' frames, clip after clip, in order."""
    folders = sorted(p for p in (project / CORPUS).glob("sub*/*") if p.is_dir())
    if not folders:
        raise SystemExit(f"no generated corpus in {project / CORPUS}: run `kedro run` first")
    return [frame for folder in folders for frame in
            sorted(folder.glob("img*.jpg"), key=lambda p: int(p.stem.removeprefix("img")))]


def write_recording(path: Path, frames: list[Path], n_frames: int, fps: float) -> Path:
    images = [cv2.resize(cv2.imread(str(f)), SIZE) for f in frames]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, SIZE)
    for n in range(n_frames):
        writer.write(images[n % len(images)])
    writer.release()
    return path


def run_measured(command: list[str], cwd: Path) -> dict[str, float | str]:
    """Wall time, output and peak memory (tree sum and largest process) of ``command``."""
    # Wide enough that rich does not wrap the scoring node's log line.
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "400"}
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = psutil.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        tree_peak = single_peak = 0
        while process.poll() is None:
            sizes = []
            for member in [process, *process.children(recursive=True)]:
                try:
                    sizes.append(member.memory_info().rss)
                except psutil.Error:  # ended between the listing and the reading
                    continue
            tree_peak, single_peak = max(tree_peak, sum(sizes)), max(single_peak, *sizes, 0)
            time.sleep(SAMPLE_S)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return {"wall_s": seconds, "output": output, "tree_peak_mb": tree_peak / 2**20,
            "process_peak_mb": single_peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[15, 60],
                        help="recording lengths to score (default: 15 and 60)")
    parser.add_argument("--fps", type=float, default=200.0, help="frame rate (default 200)")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the Kedro project whose model and corpus are used "
                             "(default: this one)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON written")
    args = parser.parse_args()
    project = args.project.resolve()
    frames = corpus_frames(project)
    kedro = str(Path(sys.executable).with_name("kedro"))
    figures: dict = {"device": f"cpu ({os.cpu_count()} cores)", "machine": platform.machine(),
                     "fps": args.fps, "frame_size": f"{SIZE[0]}x{SIZE[1]}", "recordings": []}
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "project"
        copy_configuration(project, workspace)
        shutil.copy(project / "mlflow.db", workspace / "mlflow.db")
        for seconds in sorted(args.seconds):
            n_frames = round(seconds * args.fps)
            video = write_recording(Path(scratch) / f"recording_{seconds:g}s.mp4", frames,
                                    n_frames, args.fps)
            run = run_measured([kedro, "run", "--pipelines", "inference", "--params",
                                f"inference.source={video}"], workspace)
            predictions = pd.read_parquet(
                workspace / "data/07_model_output/inference_predictions.parquet")
            node = NODE_LINE.search(run["output"])
            scoring_s = float(node.group(2)) if node else None
            figures["recordings"].append({
                "seconds": seconds, "frames": n_frames, "windows": len(predictions),
                "windows_scored": int((predictions["status"] == "scored").sum()),
                "run_wall_s": round(run["wall_s"], 1),
                "scoring_s": scoring_s,
                "scoring_s_per_recording_s": round(scoring_s / seconds, 3) if node else None,
                "peak_rss_tree_mb": round(run["tree_peak_mb"]),
                "peak_rss_largest_process_mb": round(run["process_peak_mb"]),
            })
            video.unlink()
    shortest, longest = figures["recordings"][0], figures["recordings"][-1]
    figures["peak_rss_tree_ratio_longest_to_shortest"] = round(
        longest["peak_rss_tree_mb"] / shortest["peak_rss_tree_mb"], 3)
    for recording in figures["recordings"]:
        print(", ".join(f"{k} {v}" for k, v in recording.items()))  # noqa: T201
    print("peak memory, longest / shortest recording:",  # noqa: T201
          figures["peak_rss_tree_ratio_longest_to_shortest"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2))
    print(f"wrote {args.output}")  # noqa: T201


if __name__ == "__main__":
    main()
