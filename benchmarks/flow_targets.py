"""How well candidate flow targets track the true motion of the generated corpus.

Preprocessing stores TV-L1 flows between consecutive sampled frames of the 144 px aligned
crop. Between two sampled frames the face moves ~0.1 px, and the stored flows barely beat a
zero flow. This compares, on the first sample of the first ``--clips`` clips of the
preprocessed cache (``data/03_primary`` of this project, or of ``--project``), with the
generator's exact ground truth and the metric of ``preprocessing/quality.py`` (mean end-point
error in crop px on the convex hull of the true landmarks of the pair's first frame, every 2nd
crop pixel; averaged over pairs):

* ``stored``: the cached consecutive flows; ``recomputed``: the same flows computed again,
  whose TV-L1 CPU time is the baseline every cost is relative to.
* ``onset``: TV-L1 from sampled frame 0 to each sampled frame k, against the true 0->k flow,
  and the consecutive flows derived from it, f(k->k+1) ~= F(0->k+1) - F(0->k). The exact
  relation is f(k->k+1)(p + F(0->k)(p)) = F(0->k+1)(p) - F(0->k)(p): the difference is taken
  at p, not at p's position in frame k, an error of about |grad f| |F| (negligible for
  sub-pixel F).
* ``fine``: the original frames re-warped into a 2x (288 px) crop with the stored transform
  scaled by 2 (plus half a pixel, so that a 144 px pixel covers exactly 2x2 fine pixels), TV-L1
  there, the field brought back to 144 px (``cv2.INTER_AREA``, displacements halved).
* Photometric normalisation before TV-L1 (the generator flickers each frame's brightness by
  ~2 %, i.e. grey levels, while the motion changes the image by under one): ``gain`` scales
  each crop (as float32) to the mean brightness of the sample's first crop; ``affine``
  matches gain, offset and a left-right / top-bottom slope to the first crop by least
  squares; ``highpass`` runs TV-L1 on I - Gaussian(I) (structure-texture split, no fitting).
* TV-L1 parameter variants of the best candidate whose time is within ``--max-cost``
  (default 2) times the baseline's (best: lowest ratio on consecutive flows, the stored
  target), and free post-filters: a spatial Gaussian blur (of the stored flows, and of the
  best's flows and its onset-referenced version), and temporal smoothing over k of the
  onset-referenced flows ([1, 2, 1] / 4; F(0->0) = 0 and the last frame kept).

For each: EPE, zero-flow EPE, their ratio, TV-L1 CPU seconds per clip (one thread, process
time; the fine crops' extra warping and the normalisation included) and that time over the
baseline's. The other preprocessing stages are unchanged, so the whole preprocessing time
grows by less than that.
Prints a Markdown table and saves ``benchmarks/results/flow_targets.json``.
Usage: ``python benchmarks/flow_targets.py [--clips N] [--max-cost X] [--no-variants]
[--project PATH] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import yaml

from micro_expression.face.alignment import transform_points, warp_to_crop
from micro_expression.flow.error import end_point_error
from micro_expression.flow.tvl1 import create_tvl1, tvl1_flow
from micro_expression.io.clip_cache import ClipCache
from micro_expression.preprocessing.clip import read_gray
from micro_expression.preprocessing.quality import (
    face_mask,
    load_clip_truth,
    true_flow_at,
    truth_indices,
)
from micro_expression.preprocessing.sampling import frame_numbers
from micro_expression.preprocessing.tables import optional_path

PROJECT = Path(__file__).resolve().parents[1]
# Inside the project whose preprocessed clips are compared (this one unless --project).
CLIP_INDEX = Path("data") / "02_intermediate" / "clip_index.parquet"
PREPROCESSED_INDEX = Path("data") / "03_primary" / "preprocessed_index.parquet"
CACHE = Path("data") / "03_primary" / "preprocessed"
RESULTS = PROJECT / "benchmarks" / "results" / "flow_targets.json"
STEP = 2  # every STEP-th crop pixel, as clip_quality
FINE = 2  # the fine crop's size over the stored crop's
# Changes to the configured TV-L1 parameters, tried on the best candidate.
VARIANTS = {
    "lambda 0.15": {"lambda": 0.15},
    "lambda 0.3": {"lambda": 0.3},
    "median filter off": {"median_filtering": 1},
    "nscales 5": {"nscales": 5},
    "nscales 1 (no pyramid)": {"nscales": 1},
    "nscales 1, warps 1": {"nscales": 1, "warps": 1},
}
BLUR_SIGMA = 2.0  # crop px, the spatial post-filter
HIGHPASS_SIGMA = 3.0  # crop px


@dataclass
class Clip:
    """One clip's first sample: crops, stored flows, truth at the evaluation points."""

    clip_id: str
    frames: np.ndarray  # (L, C, C) uint8
    stored: np.ndarray  # (L-1, C, C, 2)
    transforms: np.ndarray  # (L, 2, 3)
    images: list[np.ndarray]  # (H, W) uint8 originals of the sampled frames
    # (rows, cols, true flow) per pair: consecutive k->k+1 and onset-referenced 0->k (k >= 1)
    consecutive: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    onset: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)


def load_params(project: Path) -> dict[str, Any]:
    path = project / "conf" / "base" / "parameters_preprocessing.yml"
    return yaml.safe_load(path.read_text())["preprocessing"]


def _points(landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    grid = np.zeros((size, size), dtype=bool)
    grid[::STEP, ::STEP] = True
    return np.nonzero(face_mask(landmarks, size) & grid)


def load_clips(project: Path, count: int) -> list[Clip]:
    """The first ``count`` cached clips of ``project`` that have ground truth, with their
    evaluation points."""
    clip_index = pd.read_parquet(project / CLIP_INDEX).set_index("clip_id")
    index = pd.read_parquet(project / PREPROCESSED_INDEX)
    cache = ClipCache(project / CACHE)
    clips = []
    for clip_id, key in zip(index["clip_id"], index["content_key"], strict=True):
        if len(clips) == count:
            break
        frame_paths = [str(project / p) for p in clip_index.at[clip_id, "frame_paths"]]
        truth_path = optional_path(clip_index.at[clip_id, "ground_truth_path"])
        truth = load_clip_truth(None if truth_path is None else str(project / truth_path))
        if truth is None:
            continue
        arrays = cache.read(key, ["frames", "flows", "transform", "frame_numbers"])
        numbers = arrays["frame_numbers"][0]
        sample = truth_indices(truth, numbers)
        position = {int(n): i for i, n in enumerate(frame_numbers(frame_paths))}
        transforms = arrays["transform"][0]
        size = arrays["frames"].shape[-1]
        clip = Clip(
            clip_id=clip_id,
            frames=arrays["frames"][0],
            stored=arrays["flows"][0].astype(np.float32),
            transforms=transforms,
            images=[read_gray(frame_paths[position[int(n)]]) for n in numbers],
        )
        for first, second, into in [
            *((k, k + 1, clip.consecutive) for k in range(len(sample) - 1)),
            *((0, k, clip.onset) for k in range(1, len(sample))),
        ]:
            true_points = transform_points(truth.landmarks[sample[first]], transforms[first])
            rows, cols = _points(true_points, size)
            points = np.stack([cols, rows], axis=1).astype(np.float64)
            flow = true_flow_at(truth, sample[first], sample[second], transforms[first], points)
            into.append((rows, cols, flow))
        clips.append(clip)
    return clips


def fine_crops(clip: Clip) -> tuple[np.ndarray, float]:
    """The sampled frames warped into a FINE x larger crop, and the CPU seconds it took.

    Fine pixel centres (FINE x + (FINE - 1) / 2) average, under INTER_AREA, back onto crop
    pixel x, so the field brought back to the crop lines up with it.
    """
    size = clip.frames.shape[-1] * FINE
    scale = np.array([[FINE, 0, (FINE - 1) / 2], [0, FINE, (FINE - 1) / 2], [0, 0, 1]])
    started = time.process_time()
    crops = np.stack(
        [
            warp_to_crop(image, (scale @ np.vstack([transform, [0, 0, 1]]))[:2], size)
            for image, transform in zip(clip.images, clip.transforms, strict=True)
        ]
    )
    return crops, time.process_time() - started


def to_crop(flow: np.ndarray, size: int) -> np.ndarray:
    """A fine flow field brought back to the ``size`` px crop."""
    if flow.shape[0] == size:
        return flow
    return cv2.resize(flow, (size, size), interpolation=cv2.INTER_AREA) / (flow.shape[0] / size)


@dataclass(frozen=True)
class Spec:
    """A way of computing flows: crop scale, reference frame, photometric normalisation,
    TV-L1 parameter changes."""

    scale: int  # 1 = the stored 144 px crop, FINE = the fine crop
    reference: str  # "consecutive" or "onset"
    photometric: str = "none"  # "none", "gain", "affine" or "highpass"
    changes: tuple[tuple[str, Any], ...] = ()

    def describe(self, crop_size: int) -> dict[str, Any]:
        return {
            "crop_px": crop_size * self.scale,
            "reference": self.reference,
            "photometric": self.photometric,
            "tvl1_changes": dict(self.changes),
        }


def normalise(frames: np.ndarray, how: str, scale: int) -> np.ndarray:
    """(L, C, C) uint8 crops as TV-L1 input: unchanged, or float32 (about 0..1) after ``how``."""
    if how == "none":
        return frames
    images = frames.astype(np.float32) / 255.0
    reference = images[0]
    if how == "gain":
        return images * (reference.mean() / images.mean(axis=(1, 2), keepdims=True))
    if how == "highpass":
        sigma = HIGHPASS_SIGMA * scale
        return np.stack([i - cv2.GaussianBlur(i, (0, 0), sigma) + 0.5 for i in images])
    if how == "affine":
        size = reference.shape[0]
        ys, xs = np.mgrid[0:size, 0:size] / size
        design = np.stack([reference.ravel(), np.ones(size * size), xs.ravel(), ys.ravel()], 1)
        out = [reference]
        for image in images[1:]:
            (a, b, c, d), *_ = np.linalg.lstsq(design, image.ravel(), rcond=None)
            out.append((image - b - c * xs - d * ys) / a)
        return np.stack(out).astype(np.float32)
    raise ValueError(f"unknown photometric normalisation {how!r}")


def compute(clip: Clip, spec: Spec, tvl1: dict[str, Any]) -> tuple[np.ndarray, float]:
    """Flows (L-1, C, C, 2) at crop resolution (consecutive k->k+1 or onset 0->k+1) and
    the CPU seconds of TV-L1 plus the fine warp and the normalisation."""
    estimator = create_tvl1({**tvl1, **dict(spec.changes)})
    frames, seconds = (clip.frames, 0.0) if spec.scale == 1 else fine_crops(clip)
    started = time.process_time()
    frames = normalise(frames, spec.photometric, spec.scale)
    seconds += time.process_time() - started
    size = clip.frames.shape[-1]
    flows = []
    for k in range(1, len(frames)):
        first = frames[k - 1] if spec.reference == "consecutive" else frames[0]
        started = time.process_time()
        flow = tvl1_flow(estimator, first, frames[k])
        seconds += time.process_time() - started
        flows.append(to_crop(flow, size))
    return np.stack(flows).astype(np.float32), seconds


def errors(flows: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """Mean EPE and zero-flow EPE over the pairs of one clip."""
    estimate = [end_point_error(f[rows, cols], truth) for f, (rows, cols, truth) in
                zip(flows, pairs, strict=True)]
    zero = [end_point_error(np.zeros_like(truth), truth) for rows, cols, truth in pairs]
    return estimate, zero


def derived_consecutive(onset: np.ndarray) -> np.ndarray:
    """f(k->k+1) ~= F(0->k+1) - F(0->k), with F(0->0) = 0."""
    return np.diff(np.concatenate([np.zeros_like(onset[:1]), onset]), axis=0)


def smooth_in_time(onset: np.ndarray) -> np.ndarray:
    """[1, 2, 1] / 4 over k of F(0->k) (F(0->0) = 0 kept; the last frame kept)."""
    padded = np.concatenate([np.zeros_like(onset[:1]), onset])
    smoothed = padded.copy()
    smoothed[1:-1] = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    return smoothed[1:]


def blur(flows: np.ndarray) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(f, (0, 0), BLUR_SIGMA) for f in flows])


class Table:
    """Accumulates candidate rows: EPE figures and TV-L1 seconds per clip."""

    def __init__(self, clips: list[Clip]) -> None:
        self.clips = clips
        self.rows: list[dict[str, Any]] = []
        self.baseline_s: float | None = None

    def add(self, name: str, target: str, flows: list[np.ndarray], seconds: list[float],
            spec: Spec | None = None, note: str = "") -> dict[str, Any]:
        estimate, zero = [], []
        for clip, clip_flows in zip(self.clips, flows, strict=True):
            pairs = clip.consecutive if target == "consecutive" else clip.onset
            e, z = errors(clip_flows, pairs)
            estimate += e
            zero += z
        per_clip_s = float(np.mean(seconds))
        row = {
            "name": name,
            "target": target,
            "flow_epe": float(np.mean(estimate)),
            "flow_epe_zero": float(np.mean(zero)),
            "ratio": float(np.mean(estimate) / np.mean(zero)),
            "flow_epe_median": float(np.median(estimate)),
            "tvl1_cpu_s_per_clip": per_clip_s,
            "cost_vs_baseline": per_clip_s / self.baseline_s if self.baseline_s else None,
            "pairs": len(estimate),
            "spec": None if spec is None else spec.describe(self.clips[0].frames.shape[-1]),
            "note": note,
        }
        self.rows.append(row)
        say(f"  {name:48s} {target:12s} EPE {row['flow_epe']:.4f} zero {row['flow_epe_zero']:.4f}"
            f" ratio {row['ratio']:.3f}  {per_clip_s:.2f} CPU s/clip")
        return row

    def markdown(self) -> str:
        lines = [
            "| candidate | compared with | EPE (px) | zero-flow EPE | ratio | TV-L1 CPU s/clip "
            "| cost vs stored |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for row in self.rows:
            cost = row["cost_vs_baseline"]
            lines.append(
                f"| {row['name']} | {row['target']} | {row['flow_epe']:.4f} | "
                f"{row['flow_epe_zero']:.4f} | {row['ratio']:.3f} | "
                f"{row['tvl1_cpu_s_per_clip']:.2f} | {'-' if cost is None else f'{cost:.2f}x'} |"
            )
        return "\n".join(lines)


def run_spec(table: Table, name: str, spec: Spec, tvl1: dict[str, Any]):
    """Compute ``spec`` on every clip and add its rows; returns its consecutive-flow ratio
    (derived ones for onset-referenced flows), the flows and the seconds."""
    results = [compute(clip, spec, tvl1) for clip in table.clips]
    flows, seconds = [f for f, _ in results], [s for _, s in results]
    if spec.reference == "consecutive":
        return table.add(name, "consecutive", flows, seconds, spec)["ratio"], flows, seconds
    table.add(name, "onset 0->k", flows, seconds, spec)
    derived = [derived_consecutive(f) for f in flows]
    ratio = table.add(name + " -> derived", "consecutive", derived, seconds, spec)["ratio"]
    return ratio, flows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=12, help="the first N cached clips")
    parser.add_argument("--no-variants", action="store_true",
                        help="skip the TV-L1 parameter variants and post-filters")
    parser.add_argument("--max-cost", type=float, default=2.0,
                        help="variants are tried on the best candidate within this many times "
                             "the baseline's TV-L1 time")
    parser.add_argument("--project", type=Path, default=PROJECT,
                        help="the Kedro project whose preprocessed clips are compared "
                             "(default: this one; run `kedro run` in it first)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON written")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    params = load_params(args.project)
    tvl1 = dict(params["tvl1"])

    clips = load_clips(args.project, args.clips)
    say(f"{len(clips)} clips, {sum(len(c.consecutive) for c in clips)} consecutive pairs")
    table = Table(clips)

    baseline = [compute(clip, Spec(1, "consecutive"), tvl1) for clip in clips]
    table.baseline_s = float(np.mean([s for _, s in baseline]))
    table.add("stored (cache)", "consecutive", [c.stored for c in clips], [0.0] * len(clips),
              note="cached flows; TV-L1 time not measured")
    table.add("recomputed (configured TV-L1, 144 px)", "consecutive",
              [f for f, _ in baseline], [s for _, s in baseline], Spec(1, "consecutive"))
    candidates = {
        "onset_referenced": Spec(1, "onset"),
        "fine_crop (288 px)": Spec(FINE, "consecutive"),
        "fine_crop + onset_referenced": Spec(FINE, "onset"),
        "gain": Spec(1, "consecutive", "gain"),
        "gain + onset_referenced": Spec(1, "onset", "gain"),
        "affine photometric": Spec(1, "consecutive", "affine"),
        f"highpass (sigma {HIGHPASS_SIGMA:g})": Spec(1, "consecutive", "highpass"),
        "gain + fine_crop": Spec(FINE, "consecutive", "gain"),
    }
    runs = {name: run_spec(table, name, spec, tvl1) for name, spec in candidates.items()}
    affordable = [n for n in runs if np.mean(runs[n][2]) <= args.max_cost * table.baseline_s]
    best = min(affordable or runs, key=lambda name: runs[name][0])
    say(f"best within {args.max_cost:g}x the baseline's time: {best} "
        f"(consecutive ratio {runs[best][0]:.3f})")
    if not args.no_variants:
        spec, (_, flows, seconds) = candidates[best], runs[best]
        note = f"Gaussian sigma {BLUR_SIGMA} crop px"
        table.add("stored + spatial blur", "consecutive", [blur(c.stored) for c in clips],
                  [s for _, s in baseline], note=note)
        if spec.reference == "consecutive":
            table.add(f"{best} + spatial blur", "consecutive", [blur(f) for f in flows],
                      seconds, spec, note=note)
        onset_spec = Spec(spec.scale, "onset", spec.photometric, spec.changes)
        onset_name = next((n for n, s in candidates.items() if s == onset_spec), None)
        if onset_name is None:
            onset_name = f"{best} + onset_referenced"
            runs[onset_name] = run_spec(table, onset_name, onset_spec, tvl1)
        _, onset_flows, onset_seconds = runs[onset_name]
        for label, function in [("spatial blur", blur), ("temporal smoothing", smooth_in_time)]:
            changed = [function(f) for f in onset_flows]
            table.add(f"{onset_name} + {label}", "onset 0->k", changed, onset_seconds,
                      onset_spec)
            table.add(f"{onset_name} + {label} -> derived", "consecutive",
                      [derived_consecutive(f) for f in changed], onset_seconds, onset_spec)
        for label, changes in VARIANTS.items():
            variant = Spec(spec.scale, spec.reference, spec.photometric, tuple(changes.items()))
            run_spec(table, f"{best}, {label}", variant, tvl1)

    results = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "python": platform.python_version(),
            "opencv": cv2.__version__,
            "threads": 1,
        },
        "clips": [c.clip_id for c in clips],
        "metric": "mean over pairs of the mean EPE (crop px) on the true face hull of the "
                  f"pair's first frame, every {STEP}nd pixel",
        "tvl1": tvl1,
        "baseline_tvl1_cpu_s_per_clip": table.baseline_s,
        "max_cost": args.max_cost,
        "best": best,
        "candidates": table.rows,
        "runtime_wall_s": time.perf_counter() - started_wall,
        "runtime_cpu_s": time.process_time() - started_cpu,
    }
    say("")
    say(table.markdown())
    say(f"\nruntime {results['runtime_wall_s']:.0f} s wall, {results['runtime_cpu_s']:.0f} s CPU")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=float))
    say(f"saved {args.output}")


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a benchmark prints its figures


if __name__ == "__main__":
    main()
