"""Time the generation of the default synthetic corpus (``conf/base/parameters_synthetic.yml``).

Writes the corpus into a temporary folder, prints seconds, clips, frames and frames per
second, and saves the figures to ``benchmarks/results/synthetic.json``.
Usage: ``python benchmarks/synthetic.py [--params conf/base/parameters_synthetic.yml]
[--output PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import yaml

from micro_expression.synthetic import generate_corpus
from micro_expression.synthetic.face import base_face

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "synthetic.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = PROJECT / "conf" / "base" / "parameters_synthetic.yml"
    parser.add_argument("--params", type=Path, default=default)
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON written")
    args = parser.parse_args()
    params = yaml.safe_load(args.params.read_text())["synthetic"]

    started = time.perf_counter()
    corpus = generate_corpus(params)
    plan_seconds = time.perf_counter() - started
    base_face()  # dlib model loading is a one-off per process, not generation work
    with tempfile.TemporaryDirectory() as folder:
        started, cpu_started = time.perf_counter(), time.process_time()
        manifest = corpus.write(Path(folder) / "synthetic")
        write_seconds = time.perf_counter() - started
        # CPU time of this process (all its threads): less sensitive to other load than wall time.
        cpu_seconds = time.process_time() - cpu_started
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        started = time.perf_counter()
        corpus.write(Path(folder) / "synthetic")
        skip_seconds = time.perf_counter() - started

    counts = manifest["counts"]
    figures = {
        "plan_seconds": round(plan_seconds, 4),
        "write_seconds": round(write_seconds, 2),
        "write_cpu_seconds": round(cpu_seconds, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "intact_rewrite_seconds": round(skip_seconds, 2),
        "clips": counts["clips"],
        "frames": counts["frames"],
        "subjects": counts["subjects"],
        "per_class": counts["per_class"],
        "frames_per_second": round(counts["frames"] / write_seconds, 1),
        "megabytes": round(size / 1e6, 1),
        "image_size": manifest["params"]["image_size"],
        "cpu_count": os.cpu_count(),
        "opencv_threads": cv2.getNumThreads(),
        "machine": platform.processor() or platform.machine(),
    }
    print(  # noqa: T201
        f"synthetic corpus: {figures['clips']} clips, {figures['frames']} frames "
        f"({figures['subjects']} subjects, per class {figures['per_class']}), "
        f"{figures['megabytes']} MB in {figures['write_seconds']} s = "
        f"{figures['frames_per_second']} frames/s (CPU {figures['write_cpu_seconds']} s, "
        f"load average {figures['load_average_1min']}); plan {figures['plan_seconds']} s; "
        f"intact re-write {figures['intact_rewrite_seconds']} s"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
