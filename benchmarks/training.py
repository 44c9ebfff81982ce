"""Training throughput of one fold: step time, clips per second, peak memory, per preset and device.

Runs the real training loop (``train_model``: clip cache -> ClipSamples -> DataLoader -> MOL ->
mol_loss -> AdamW) on the preprocessed corpus when ``data/03_primary`` holds one, else on the
tests' small generated clip cache. Each (preset, device) runs in its own process so that its
peak memory (``ru_maxrss``; ``torch.cuda.max_memory_allocated`` on a GPU) is its own.
Prints the figures and writes ``benchmarks/results/training.json``.

Usage: ``python benchmarks/training.py [--threads 2] [--runs small:8:12 paper:2:3]``
(``preset:batch:steps``); the GPU runs are added when CUDA is available.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "training.json"
INDEX = ROOT / "data" / "03_primary" / "preprocessed_index.parquet"
CLIPS = ROOT / "data" / "03_primary" / "preprocessed"


def measure(preset: str, batch: int, steps: int, device: str, threads: int) -> dict:
    """Train ``steps`` steps in this process; figures of the steps after the first (warm-up)."""
    import pandas as pd
    import torch

    from micro_expression.preprocessing.cache import ClipCache
    from micro_expression.training.data import ClipSamples
    from micro_expression.training.loop import TrainingConfig, train_model

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as folder:
        if INDEX.is_file():
            index, store, corpus = pd.read_parquet(INDEX), ClipCache(CLIPS), "preprocessed"
        else:
            sys.path.insert(0, str(ROOT))
            from tests.training.corpus import write_corpus

            index, store, corpus = write_corpus(Path(folder), subjects=4), ClipCache(folder), "fixture"
        clips = ClipSamples(index.assign(target=index["label_id"]), store, augment=True)
        config = TrainingConfig.from_params(
            {"preset": preset, "batch_size": batch, "steps": steps, "device": device}
        )
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        trained = train_model(clips, None, int(index["label_id"].max()) + 1, config, seed=0,
                              description=f"{preset} {device}")
    step_seconds = trained.history["elapsed_s"].diff().dropna().tolist()
    median = statistics.median(step_seconds)
    figures = {
        "preset": preset,
        "device": device,
        "threads": threads,
        "batch": batch,
        "steps": steps,
        "corpus": corpus,
        "step_seconds_median": round(median, 4),
        "step_seconds_min": round(min(step_seconds), 4),
        "clips_per_second": round(batch / median, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if device == "cuda":
        figures["peak_gpu_allocated_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        figures["gpu"] = torch.cuda.get_device_name()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", nargs="+", default=["small:8:12", "paper:2:3"],
                        help="preset:batch:steps on the CPU")
    parser.add_argument("--gpu-runs", nargs="+", default=["small:32:30", "paper:32:20"],
                        help="preset:batch:steps on CUDA, when available")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(**json.loads(args.measure))))  # noqa: T201
        return

    import torch

    plan = [(run, "cpu") for run in args.runs]
    if torch.cuda.is_available():
        plan += [(run, "cuda") for run in args.gpu_runs]
    results = []
    for run, device in plan:
        preset, batch, steps = run.split(":")
        job = {"preset": preset, "batch": int(batch), "steps": int(steps), "device": device,
               "threads": args.threads}
        output = subprocess.run(
            [sys.executable, __file__, "--measure", json.dumps(job)],
            check=True, capture_output=True, text=True,
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        results.append(figures)
        print(  # noqa: T201
            f"{preset} on {device} ({args.threads} threads), batch {batch}: step "
            f"{figures['step_seconds_median']:.3f} s median, {figures['clips_per_second']:.1f} "
            f"clips/s, peak RSS {figures['peak_rss_mb']:.0f} MB"
            + (f", peak GPU {figures['peak_gpu_allocated_mb']:.0f} MB" if device == "cuda" else "")
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "torch": torch.__version__,
        "runs": results,
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
