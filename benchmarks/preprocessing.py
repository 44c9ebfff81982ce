"""Preprocessing speed and quality on the generated corpus.

For both alignment modes: clips per second, worker seconds per stage (decode, detect,
landmarks, warp, tvl1, quality, write), flow end-point error and landmark error against the
ground truth. Then the time of a no-change re-run, and of the TV-L1 calls alone (the same
flows, all workers busy), against which the full run is compared. ``--sweep`` adds the speed
and flow error of several TV-L1 parameter sets. Wall seconds depend on what else runs on the
machine; CPU seconds (this process and its workers) much less, so both are reported.

The corpus is generated with ``conf/base/parameters_synthetic.yml`` into a temporary folder
unless ``--corpus`` names one. Prints the figures and saves them to
``benchmarks/results/preprocessing.json``.
Usage: ``python benchmarks/preprocessing.py [--corpus PATH] [--workers N] [--clips N] [--sweep]
[--output PATH]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from micro_expression.face.alignment import transform_points
from micro_expression.flow.error import end_point_error
from micro_expression.flow.tvl1 import create_tvl1, tvl1_sequence
from micro_expression.io.clip_cache import ClipCache
from micro_expression.pipelines.ingestion.nodes import build_clip_index
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.executor import run_clips
from micro_expression.preprocessing.quality import (
    face_mask,
    load_clip_truth,
    true_crop_flow,
    truth_indices,
)
from micro_expression.preprocessing.tables import (
    QUALITY_METRICS,
    clip_tasks,
    index_table,
    optional_path,
    quality_table,
    rejection_table,
    stage_seconds,
)
from micro_expression.readers import read_source
from micro_expression.synthetic import generate_corpus

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "preprocessing.json"
# Changes to the configured TV-L1 parameters (conf/base/parameters_preprocessing.yml).
SWEEP = {
    "configured": {},
    "OpenCV defaults (public MOL code)": {"lambda": 0.15, "nscales": 5, "warps": 5},
    "lambda 0.15": {"lambda": 0.15},
    "lambda 0.08": {"lambda": 0.08},
    "lambda 0.03": {"lambda": 0.03},
    "nscales 5, warps 5": {"nscales": 5, "warps": 5},
    "warps 2": {"warps": 2},
    "outer 5": {"outer_iterations": 5},
    "epsilon 0.05": {"epsilon": 0.05},
    "gamma 0.1 (illumination term)": {"gamma": 0.1},
    "median filter off": {"median_filtering": 1},
    "initial flow from previous pair": {"use_initial_flow": True},
}


@contextmanager
def clock(into: dict[str, float]):
    """Wall seconds and CPU seconds of this process plus its finished workers."""
    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime

    wall, used = time.perf_counter(), cpu()
    yield
    into["wall_s"] = time.perf_counter() - wall
    into["cpu_s"] = cpu() - used


def load_params(name: str) -> dict[str, Any]:
    path = PROJECT / "conf" / "base" / f"parameters_{name}.yml"
    return yaml.safe_load(path.read_text())[name]


def preprocess(clip_index, cache: ClipCache, config: PreprocessingConfig) -> dict[str, Any]:
    """What the ``preprocess_clips`` node does, timed, with its per-stage worker seconds."""
    figures: dict[str, Any] = {}
    with clock(figures):
        outcomes = run_clips(clip_tasks(clip_index, config), cache, config)
        index = index_table(outcomes, clip_index, cache)
        rejections = rejection_table(outcomes)
        quality = quality_table(outcomes, clip_index, config)
    computed = int((index["status"] == "computed").sum())
    stages = stage_seconds(outcomes)
    figures.update(
        clips=len(index),
        computed=computed,
        rejected=len(rejections),
        clips_per_s=len(index) / figures["wall_s"],
        stage_worker_s=stages,
        stage_ms_per_clip={k: 1000 * v / max(computed, 1) for k, v in stages.items()},
        quality={m: float(quality[m].mean()) for m in QUALITY_METRICS} if len(quality) else {},
    )
    figures["_index"] = index
    return figures


def _init_tvl1_worker() -> None:
    cv2.setNumThreads(1)


def _flows(frames: np.ndarray, tvl1: dict[str, Any]) -> tuple[np.ndarray, float]:
    """TV-L1 flows of one clip's (S, L, C, C) crops, and the CPU seconds they took."""
    estimator = create_tvl1(tvl1)
    started = time.process_time()
    flows = np.stack([tvl1_sequence(estimator, sample) for sample in frames])
    return flows, time.process_time() - started


def _warm(_: int) -> int:
    return 0


def tvl1_only(all_frames: list[np.ndarray], tvl1: dict, workers: int) -> dict[str, Any]:
    """The flow calls alone on ``workers`` single-threaded processes (started beforehand)."""
    figures: dict[str, Any] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_tvl1_worker) as pool:
        list(pool.map(_warm, range(workers)))
        started = time.perf_counter()
        results = list(pool.map(_flows, all_frames, [tvl1] * len(all_frames)))
        figures["wall_s"] = time.perf_counter() - started
    # CPU of the flow calls as the workers measured them (pool start-up left out).
    figures["flow_cpu_s"] = figures["cpu_s"] = sum(seconds for _, seconds in results)
    figures["flows"] = sum(frames.shape[0] * (frames.shape[1] - 1) for frames in all_frames)
    figures["_flows"] = [flows for flows, _ in results]
    return figures


def sweep(clip_index, index, cache: ClipCache, base_tvl1: dict, workers: int, clips: int):
    """Speed and flow error of each TV-L1 parameter set on the first ``clips`` clips."""
    truth_paths = clip_index.set_index("clip_id")["ground_truth_path"]
    rows = index.head(clips)
    stored = [cache.read(key) for key in rows["content_key"]]
    truths = []
    for clip_id, arrays in zip(rows["clip_id"], stored, strict=True):
        truth = load_clip_truth(optional_path(truth_paths[clip_id]))
        numbers = truth_indices(truth, arrays["frame_numbers"][0])
        transforms, size = arrays["transform"][0], arrays["frames"].shape[-1]
        pairs = []
        for k in range(len(numbers) - 1):
            flow = true_crop_flow(truth, numbers[k], numbers[k + 1], transforms[k], size)
            mask = face_mask(transform_points(truth.landmarks[numbers[k]], transforms[k]), size)
            pairs.append((flow, mask))
        truths.append(pairs)
    baseline = float(np.mean([end_point_error(0 * f, f, m) for pairs in truths for f, m in pairs]))
    results = []
    for name, change in SWEEP.items():
        timing = tvl1_only([a["frames"] for a in stored], {**base_tvl1, **change}, workers)
        errors = [
            end_point_error(flows[0, k], flow, mask)
            for flows, pairs in zip(timing["_flows"], truths, strict=True)
            for k, (flow, mask) in enumerate(pairs)
        ]
        results.append(
            {
                "name": name,
                "tvl1": {**base_tvl1, **change},
                "cpu_ms_per_flow": 1000 * timing["flow_cpu_s"] / timing["flows"],
                "flow_epe": float(np.mean(errors)),
                "flow_epe_median": float(np.median(errors)),
                "flow_epe_zero": baseline,
            }
        )
        say(f"  {name:40s} {results[-1]['cpu_ms_per_flow']:6.0f} CPU ms/flow, "
            f"EPE {results[-1]['flow_epe']:.4f} px (zero flow {baseline:.4f})")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="a generated corpus (default: generate one)")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--clips", type=int, help="only the first N clips")
    parser.add_argument("--sweep", action="store_true", help="compare TV-L1 parameter sets")
    parser.add_argument("--sweep-clips", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    params = {**load_params("preprocessing"), "workers": args.workers}
    results: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "opencv": cv2.__version__,
        },
        "workers": args.workers,
        "params": params,
    }
    with tempfile.TemporaryDirectory() as scratch:
        root = args.corpus
        if root is None:
            root = Path(scratch) / "corpus"
            synthetic = load_params("synthetic")
            started = time.perf_counter()
            generate_corpus(synthetic).write(root)
            results["corpus_generation_s"] = time.perf_counter() - started
        clip_index, _ = build_clip_index(read_source("synthetic", root), load_params("ingestion"))
        if args.clips:
            clip_index = clip_index.head(args.clips)
        results["corpus"] = {
            "root": str(args.corpus or "generated"),
            "clips": len(clip_index),
            "frames": int(clip_index["n_frames"].sum()),
        }
        say(f"corpus: {len(clip_index)} clips, {results['corpus']['frames']} frames; "
            f"{args.workers} workers")

        # The TV-L1-only run follows the per_clip run at once, so that both meet the same
        # load from other jobs on a shared machine.
        modes = {}
        per_clip_cache = ClipCache(Path(scratch) / "cache_per_clip")
        per_clip = PreprocessingConfig.from_params({**params, "alignment": "per_clip"})
        modes["per_clip"] = preprocess(clip_index, per_clip_cache, per_clip)
        report("per_clip", modes["per_clip"])
        index = modes["per_clip"]["_index"]
        all_frames = [per_clip_cache.read(k, ["frames"])["frames"] for k in index["content_key"]]
        flows_only = tvl1_only(all_frames, params["tvl1"], args.workers)
        say(f"TV-L1 only: {flows_only['wall_s']:.1f} s ({flows_only['cpu_s']:.0f} CPU s) for "
            f"{flows_only['flows']} flows, "
            f"{1000 * flows_only['flow_cpu_s'] / flows_only['flows']:.0f} CPU ms per flow")
        rerun = preprocess(clip_index, per_clip_cache, per_clip)
        say(f"no-change re-run: {rerun['wall_s']:.2f} s, {rerun['computed']} computed")
        # Re-aligning every frame leaves nothing to stabilise (the reference code's way).
        per_frame = PreprocessingConfig.from_params(
            {**params, "alignment": "per_frame", "stabilisation": "none"}
        )
        per_frame_cache = ClipCache(Path(scratch) / "cache_per_frame")
        modes["per_frame"] = preprocess(clip_index, per_frame_cache, per_frame)
        report("per_frame", modes["per_frame"])
        if args.sweep:
            say(f"TV-L1 parameter sweep on {args.sweep_clips} clips:")
            results["tvl1_sweep"] = sweep(
                clip_index, index, per_clip_cache, params["tvl1"], args.workers, args.sweep_clips
            )

    full = modes["per_clip"]
    results["modes"] = {name: _public(figures) for name, figures in modes.items()}
    results["no_change_rerun"] = _public(rerun)
    results["tvl1_only"] = _public(flows_only)
    results["targets"] = {
        "rerun_over_full": rerun["wall_s"] / full["wall_s"],
        "rerun_over_full_max": 0.05,
        "full_over_tvl1_only_wall": full["wall_s"] / flows_only["wall_s"],
        "full_over_tvl1_only_cpu": full["cpu_s"] / flows_only["flow_cpu_s"],
        "full_over_tvl1_only_max": 1.3,
        "per_clip_flow_epe": full["quality"].get("flow_epe"),
        "per_frame_flow_epe": modes["per_frame"]["quality"].get("flow_epe"),
    }
    results["machine"]["load_average_at_end"] = os.getloadavg()
    targets = results["targets"]
    say(f"targets: re-run / full = {targets['rerun_over_full']:.3f} (<= 0.05); "
        f"full / TV-L1 only = {targets['full_over_tvl1_only_wall']:.2f} wall, "
        f"{targets['full_over_tvl1_only_cpu']:.2f} CPU (<= 1.3); flow EPE per_clip "
        f"{targets['per_clip_flow_epe']:.4f} vs per_frame {targets['per_frame_flow_epe']:.4f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=float))
    say(f"saved {args.output}")


def report(alignment: str, figures: dict[str, Any]) -> None:
    stages = ", ".join(f"{k} {v:.0f}" for k, v in figures["stage_ms_per_clip"].items())
    say(f"{alignment}: {figures['wall_s']:.1f} s ({figures['cpu_s']:.0f} CPU s), "
        f"{figures['clips_per_s']:.2f} clips/s; worker ms per clip: {stages}")
    say("  quality: " + ", ".join(f"{k} {v:.4f}" for k, v in figures["quality"].items()))


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a benchmark prints its figures


def _public(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if not k.startswith("_")}


if __name__ == "__main__":
    main()
