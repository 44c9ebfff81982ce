"""How well an apex found without the coding sheet agrees with the sheet's.

A corpus is generated (``conf/base/parameters_synthetic.yml`` with ``--subjects`` subjects,
the action units' amplitude scaled by each ``--amplitude``) and every clip preprocessed with
the configured settings and ``apex: estimated``, so nothing reads the sheet. Against the
sheet's apex, for each estimate:

* ``motion``: the product's estimate (``preprocessing/apex.py``): the sampled frame whose
  stabilised crop changed most from the onset over the face, eyes left out, smoothed in time;
* ``midpoint``: the sampled frame nearest the middle of onset and offset (the convention MEB
  uses for SMIC);
* ``furthest_flow``: the sampled frame of largest accumulated consecutive TV-L1 flow once its
  median (rigid) vector is removed, over the whole crop (the product's estimate before).

Figures: the share of clips whose estimate is the sampled frame nearest the sheet's apex
(``exact``), within 1 and 2 sampled frames, and the frames off (median, 90th percentile).
Prints a Markdown table and saves ``benchmarks/results/apex.json``.
Usage: ``python benchmarks/apex.py [--amplitude 1 0.5] [--subjects 8] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from micro_expression.preprocessing.clip import ClipRejected, preprocess_clip
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.readers import read_source
from micro_expression.synthetic import generate_corpus

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "apex.json"


def load_params(name: str) -> dict[str, Any]:
    """The ``name`` block of ``conf/base/parameters_<name>.yml``."""
    return yaml.safe_load((PROJECT / "conf" / "base" / f"parameters_{name}.yml").read_text())[name]


def furthest_flow(flows: np.ndarray) -> int:
    """Sampled position of the largest accumulated non-rigid flow (flows (L-1, C, C, 2))."""
    accumulated = np.cumsum(flows.astype(np.float32), axis=0).reshape(len(flows), -1, 2)
    non_rigid = accumulated - np.median(accumulated, axis=1, keepdims=True)
    return int(np.linalg.norm(non_rigid, axis=-1).mean(axis=-1).argmax()) + 1


ESTIMATES: dict[str, Callable[[Any, np.ndarray, dict[str, int]], int]] = {
    # What preprocessing stored: with `apex: estimated` that is the motion estimate.
    "motion": lambda arrays, numbers, clip: int(
        np.flatnonzero(numbers == arrays.apex_frame_numbers[0])[0]),
    "midpoint": lambda arrays, numbers, clip: int(
        np.abs(numbers - (clip["onset"] + clip["offset"]) / 2).argmin()),
    "furthest_flow": lambda arrays, numbers, clip: furthest_flow(arrays.flows[0]),
}


def measure(amplitude: float, subjects: int, config: PreprocessingConfig) -> dict[str, Any]:
    """Agreement of every estimate with the sheet on one generated corpus."""
    params = load_params("synthetic")
    params.update(subjects=subjects)
    params["amplitude_px"] = [amplitude * a for a in params["amplitude_px"]]
    off: dict[str, list[tuple[int, int]]] = {name: [] for name in ESTIMATES}
    rejected = {}
    with tempfile.TemporaryDirectory() as scratch:
        generate_corpus(params).write(Path(scratch))
        for clip in read_source("casme2", scratch).clips:
            paths = [f.path for f in clip.frames if clip.onset <= f.number <= clip.offset]
            try:
                arrays = preprocess_clip(paths, config)
            except ClipRejected as error:
                rejected[clip.clip_id] = str(error)
                continue
            numbers = arrays.frame_numbers[0]
            sheet = int(np.abs(numbers - clip.apex).argmin())
            coded = {"onset": clip.onset, "offset": clip.offset}
            for name, estimate in ESTIMATES.items():
                position = estimate(arrays, numbers, coded)
                off[name].append((abs(position - sheet), abs(int(numbers[position]) - clip.apex)))
    figures: dict[str, Any] = {"amplitude_scale": amplitude, "rejected": rejected}
    for name, pairs in off.items():
        sampled, frames = (np.array(column) for column in zip(*pairs))
        figures[name] = {
            "clips": len(pairs),
            "exact": float(np.mean(sampled == 0)),
            "within_1": float(np.mean(sampled <= 1)),
            "within_2": float(np.mean(sampled <= 2)),
            "frames_off_median": float(np.median(frames)),
            "frames_off_p90": float(np.percentile(frames, 90)),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amplitude", nargs="+", type=float, default=[1.0, 0.5],
                        help="scales of synthetic.amplitude_px")
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    config = dataclasses.replace(
        PreprocessingConfig.from_params(load_params("preprocessing")), apex="estimated"
    )
    results = {"machine": platform.platform(), "subjects": args.subjects,
               "corpora": [measure(a, args.subjects, config) for a in args.amplitude]}
    lines = ["| amplitude | estimate | clips | exact | within 1 | within 2 | frames off median "
             "| p90 |", "|---|---|---|---|---|---|---|---|"]
    for corpus in results["corpora"]:
        for name in ESTIMATES:
            f = corpus[name]
            lines.append(
                f"| x{corpus['amplitude_scale']:g} | {name} | {f['clips']} | {f['exact']:.2f} "
                f"| {f['within_1']:.2f} | {f['within_2']:.2f} | {f['frames_off_median']:.1f} "
                f"| {f['frames_off_p90']:.1f} |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join([*lines, f"saved {args.output}"]), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
