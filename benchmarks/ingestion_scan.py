"""Frame-scan throughput of the dataset readers (hash + full decode of every frame).

Writes a CASME II-shaped tree of 640x480 JPEGs (the CASME II RAW frame size) into a temporary
folder, reads it with ``read_source`` and prints frames per second; the figures also go to
``benchmarks/results/ingestion_scan.json``. Usage: ``python benchmarks/ingestion_scan.py
[--clips 40] [--frames 50] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import openpyxl
from skimage import data

from micro_expression.readers import read_source

RESULTS = Path(__file__).parent / "results" / "ingestion_scan.json"


def write_tree(root: Path, clips: int, frames: int) -> int:
    """A CASME II tree of ``clips`` clips of ``frames`` frames; returns the bytes written."""
    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (640, 480))
    rng = np.random.default_rng(0)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
                  "Action Units", "Estimated Emotion"])
    written = 0
    for c in range(clips):
        subject, onset = c % 26 + 1, 10 + c
        folder = root / "CASME2_RAW_selected" / f"sub{subject:02d}" / f"EP{c:02d}_01"
        folder.mkdir(parents=True)
        for n in range(onset, onset + frames):
            noisy = np.clip(face + rng.normal(0, 3, face.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(folder / f"img{n}.jpg"), noisy)
            written += (folder / f"img{n}.jpg").stat().st_size
        sheet.append([subject, folder.name, None, onset, onset + 1, onset + frames - 1, None,
                      "12", "happiness"])
    workbook.save(root / "CASME2-coding-20140508.xlsx")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON written")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        size = write_tree(root, args.clips, args.frames)
        start = time.perf_counter()
        raw = read_source("casme2", root)
        seconds = time.perf_counter() - start
    n_frames = sum(len(c.frames) for c in raw.clips)
    result = {
        "clips": len(raw.clips),
        "frames": n_frames,
        "frame_size": [640, 480],
        "megabytes": round(size / 1e6, 1),
        "seconds": round(seconds, 2),
        "frames_per_second": round(n_frames / seconds, 1),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))  # noqa: T201 - a benchmark prints its figures
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
