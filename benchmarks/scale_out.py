"""Scale-out: training and evaluation of every LOSO fold, sequential against the Dask runner.

In a throw-away project copy (``benchmarks/results/workspaces/scale_out``, the default generated
corpus: 8 subjects, so 8 folds plus ``final``), the corpus is generated, preprocessed and split
once, then `kedro run --pipelines training,evaluation` runs

* with the sequential runner,
* with ``micro_expression.runner.DaskRunner`` on a LocalCluster of 1 worker, then of 2 workers,

every fold with one torch thread and ``--steps`` training steps (default 20, against 200 in
the default configuration: the schedule's length scales the work per fold, not the
scheduling). Figures: wall time of each run (process start included), the time inside each
fold's training (from its loss history), the Dask overhead per fold (Dask 1 worker minus
sequential, over the folds), the speed-up with 2 workers, and the seconds per training step,
from which the README projects the 68-fold MEGC2019 composite on N workers.

Prints a Markdown table and writes ``benchmarks/results/scale_out.json``; ``--project`` names
another project to copy, ``--output`` another file (its workspace goes beside it).
Usage: ``python benchmarks/scale_out.py [--steps 20] [--workers 1 2] [--project PATH]
[--output PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from ablation import WORKSPACES, kedro_run, make_workspace, prepare_corpus, preprocessing_setting
from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scale_out.json"
DASK = ("--runner", "micro_expression.runner.DaskRunner")


def fold_runs(workspace: Path) -> int:
    """How many fold runs (the folds and ``final``) the newest run of the workspace logged."""
    uri = f"sqlite:///{workspace / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name("micro_expression").experiment_id
    runs = client.search_runs([experiment], order_by=["attributes.start_time DESC"])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    return sum(r.data.tags.get("mlflow.parentRunId") == parent.info.run_id for r in runs)


def training_seconds(workspace: Path) -> list[float]:
    """Each fold's training time, from its loss history (a fold run's span also holds, under
    the sequential runner, the folds trained before its prediction)."""
    histories = (workspace / "data" / "08_reporting" / "loss_history").glob("*.parquet")
    return [float(pd.read_parquet(path)["elapsed_s"].max()) for path in histories]


def seconds_per_step(workspace: Path) -> float:
    """Median training seconds per step over every fold's loss history."""
    histories = (workspace / "data" / "08_reporting" / "loss_history").glob("*.parquet")
    rates = []
    for path in histories:
        history = pd.read_parquet(path)
        if "elapsed_s" in history and len(history) > 1:
            rates.append(float(history["elapsed_s"].diff().dropna().median()))
    return statistics.median(rates)


def measure(workspace: Path, label: str, steps: int, *runner: str) -> dict[str, Any]:
    params = (f"training.steps={steps},training.schedule.warmup_steps={steps // 10},"
              "training.threads=1")
    seconds = kedro_run(workspace, f"scale_out_{label}", "--pipelines", "training,evaluation",
                        "--params", params, *runner)
    training = training_seconds(workspace)
    row = {"runner": label, "wall_s": round(seconds, 1), "folds": fold_runs(workspace),
           "train_s_mean": round(statistics.mean(training), 2),
           "step_s": round(seconds_per_step(workspace), 3)}
    print(f"{label}: {row['wall_s']:.1f} s wall, {row['folds']} folds trained in "  # noqa: T201
          f"{row['train_s_mean']:.1f} s each", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per fold")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2],
                        help="LocalCluster sizes to measure (one thread per worker)")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the Kedro project the workspace copies (default: this one)")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="the JSON written; the workspace goes beside it")
    args = parser.parse_args()

    project, output = args.project.resolve(), args.output.resolve()
    workspace = make_workspace(project, output.parent / WORKSPACES.name, "scale_out")
    prepare_corpus(workspace, preprocessing_setting(project, "stabilisation"))
    kedro_run(workspace, "splitting", "--pipelines", "splitting")  # the folds the runs read
    rows = [measure(workspace, "sequential", args.steps)]
    for workers in args.workers:
        (workspace / "conf" / "local" / "dask.yml").write_text(
            yaml.safe_dump({"n_workers": workers, "threads_per_worker": 1})
        )
        rows.append(measure(workspace, f"dask_{workers}", args.steps, *DASK))
    (workspace / "conf" / "local" / "dask.yml").unlink()

    sequential = rows[0]
    for row in rows[1:]:
        row["speed_up"] = round(sequential["wall_s"] / row["wall_s"], 2)
    one_worker = next((r for r in rows if r["runner"] == "dask_1"), None)
    overhead = (
        round((one_worker["wall_s"] - sequential["wall_s"]) / sequential["folds"], 2)
        if one_worker else None
    )
    summary = {"steps": args.steps, "runs": rows, "dask_overhead_s_per_fold": overhead,
               "machine": {"cpus": os.cpu_count(),
                           "python": platform.python_version()}}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2))

    print("\n| runner | wall (s) | folds | training s per fold | speed-up | s per step |")  # noqa: T201
    print("|---|---|---|---|---|---|")  # noqa: T201
    for row in rows:
        print(f"| {row['runner']} | {row['wall_s']:.1f} | {row['folds']} | "  # noqa: T201
              f"{row['train_s_mean']:.1f} | {row.get('speed_up', 1.0):.2f} | {row['step_s']:.3f} |")
    print(f"Dask overhead per fold (1 worker - sequential): {overhead} s")  # noqa: T201
    print(f"wrote {output}")  # noqa: T201


if __name__ == "__main__":
    main()
