"""Start-up time of commands that do not train: what a user waits for before anything happens.

Medians over ``--repeats`` fresh processes, after one unmeasured run of each (which creates
the MLflow store and warms the file cache), in this project (or the one ``--project`` names):

* ``import``: ``python -c "import micro_expression.settings"`` (what every `kedro` command loads:
  the project's hooks and everything they import);
* ``registry``: `kedro registry list` (settings, hooks, plugins and every pipeline definition);
* ``synthetic``: `kedro run --pipelines synthetic` on an intact generated corpus (checked, not
  rewritten; run `kedro run` once first).

Prints the figures and writes ``benchmarks/results/startup.json``.
Usage: ``python benchmarks/startup.py [--repeats 3] [--project PATH] [--output PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "startup.json"
KEDRO = str(Path(sys.executable).with_name("kedro"))
COMMANDS = {
    "import": [sys.executable, "-c", "import micro_expression.settings"],
    "registry": [KEDRO, "registry", "list"],
    "synthetic": [KEDRO, "run", "--pipelines", "synthetic"],
}


def seconds(command: list[str], project: Path) -> float:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    started = time.perf_counter()
    subprocess.run(command, cwd=project, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the Kedro project the commands run in (default: this one)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON written")
    args = parser.parse_args()
    figures = {}
    for name, command in COMMANDS.items():
        seconds(command, args.project)  # warm-up
        runs = [seconds(command, args.project) for _ in range(args.repeats)]
        figures[name] = {"median_s": round(statistics.median(runs), 2),
                         "runs_s": [round(r, 2) for r in runs]}
        print(f"{name}: {figures[name]['median_s']:.2f} s (median of {args.repeats})")  # noqa: T201
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2))
    print(f"wrote {args.output}")  # noqa: T201


if __name__ == "__main__":
    main()
