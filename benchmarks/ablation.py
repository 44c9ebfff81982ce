"""Ablation of the auxiliary tasks on the current dataset: MER only, + flow, + landmarks, full.

Each arm is a real `kedro run --pipelines splitting,training,evaluation` (every LOSO fold, on the
preprocessed clips already in data/03_primary) with the task switches set by ``--params``;
its overall scores are read from data/08_reporting/loso_scores.csv. Prints a Markdown table and
writes benchmarks/results/ablation.json. Each arm is an MLflow run of its own, so the table can
be checked against the store.

Usage: ``python benchmarks/ablation.py [--arms mer_only flow landmarks full] [--params k=v,...]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ablation.json"
SCORES = ROOT / "data" / "08_reporting" / "loso_scores.csv"
ARMS = {
    "mer_only": {"training.tasks.flow": "false", "training.tasks.landmarks": "false"},
    "flow": {"training.tasks.flow": "true", "training.tasks.landmarks": "false"},
    "landmarks": {"training.tasks.flow": "false", "training.tasks.landmarks": "true"},
    "full": {"training.tasks.flow": "true", "training.tasks.landmarks": "true"},
}
SCORE_COLUMNS = ("accuracy", "uf1", "uar", "wf1", "flow_epe", "landmark_nme")
LABELS = {
    "mer_only": "MER only", "flow": "MER + flow", "landmarks": "MER + landmarks",
    "full": "MER + flow + landmarks (MOL)",
}


def run_arm(switches: dict[str, str], extra: str) -> tuple[pd.Series, float]:
    """One LOSO run with the given task switches: (overall scores, seconds)."""
    params = ",".join(f"{k}={v}" for k, v in switches.items()) + (f",{extra}" if extra else "")
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    started = time.perf_counter()
    subprocess.run(
        [kedro, "run", "--pipelines", "splitting,training,evaluation", "--params", params],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    scores = pd.read_csv(SCORES).set_index("scope")
    return scores.loc["overall"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS))
    parser.add_argument("--params", default="", help="extra kedro --params for every arm")
    args = parser.parse_args()

    rows = []
    for arm in args.arms:
        scores, seconds = run_arm(ARMS[arm], args.params)
        row = {"arm": arm, "tasks": LABELS[arm], "seconds": round(seconds, 1)}
        row.update({k: round(float(scores[k]), 4) for k in SCORE_COLUMNS})
        rows.append(row)
        print(f"{arm}: {row}", flush=True)

    table = pd.DataFrame(rows)
    print("\n| tasks | accuracy | UF1 | UAR | WF1 | flow EPE (px) | landmark NME | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        cells = " | ".join("-" if pd.isna(r[k]) else f"{r[k]:.3f}" for k in SCORE_COLUMNS)
        print(f"| {r['tasks']} | {cells} | {r['seconds']:.0f} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"extra_params": args.params, "arms": table.to_dict("records")},
                                  indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
