"""Parameter counts of the MOL presets and the time of one training step on this machine.

A step is forward, :func:`mol_loss` (all heads), backward and an AdamW update on random frames.
Prints the figures and saves them to ``benchmarks/results/model_size.json``.
Usage: ``python benchmarks/model_size.py [--threads 2] [--steps 5] [--runs small:8 paper:2]
[--output PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from micro_expression.model import build_mol, mol_loss, parameter_counts

RESULTS = Path(__file__).parent / "results" / "model_size.json"


def step_seconds(
    preset: str, batch: int, steps: int, channels_last: bool
) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of ``steps`` training steps after a warm-up step.

    CPU seconds (all threads) barely change when other jobs share the cores; wall seconds do.
    """
    torch.manual_seed(0)
    model = build_mol(preset)
    if channels_last:
        model.to_channels_last()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-3)
    frames = torch.randn(batch, 8, 128, 128)
    targets = {
        "labels": torch.arange(batch) % 3,
        "flow": torch.randn(batch, 7, 2, 128, 128),
        "landmarks": 128 * torch.rand(batch, 7, 68, 2),
    }
    wall, cpu = [], []
    for _ in range(steps + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        optimizer.zero_grad(set_to_none=True)
        mol_loss(model(frames), targets)["total"].backward()
        optimizer.step()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return wall[1:], cpu[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--runs", nargs="+", default=["small:8", "paper:2"], help="preset:batch")
    parser.add_argument("--contiguous", action="store_true", help="keep NCHW (no channels-last)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON written")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    figures: dict = {
        "threads": args.threads,
        "channels_last": not args.contiguous,
        "cpu_count": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "presets": {},
    }
    for run in args.runs:
        preset, batch = run.split(":")
        counts = parameter_counts(build_mol(preset))
        wall, cpu = step_seconds(preset, int(batch), args.steps, not args.contiguous)
        figures["presets"][preset] = {
            "parameters": counts,
            "batch": int(batch),
            "step_wall_seconds_min": round(min(wall), 3),
            "step_wall_seconds_median": round(statistics.median(wall), 3),
            "step_cpu_seconds_median": round(statistics.median(cpu), 3),
        }
        print(  # noqa: T201
            f"{preset}: {counts['total'] / 1e6:.2f} M parameters ({counts['flow_net'] / 1e6:.2f} M "
            f"flow net); training step, batch {batch}, {args.threads} threads, {args.steps} steps: "
            f"wall min {min(wall):.3f} s, median {statistics.median(wall):.3f} s; "
            f"CPU median {statistics.median(cpu):.3f} s"
        )
    figures["load_average_after"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
