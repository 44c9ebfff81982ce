"""Ablation of MOL's tasks and variants over training seeds, and a difficulty sweep.

Everything runs through real `kedro run` calls in throw-away copies of this project under
``benchmarks/results/workspaces/`` (their own generated corpus, cache and MLflow store), so
the benchmark neither depends on nor disturbs ``data/`` and the project's model registry.

* **Ablation** (workspace ``default``, the default generated corpus): each arm below is one
  LOSO run (`--pipelines splitting,training,evaluation`, every fold plus the final model) per
  training seed; overall clip scores, the model's flow EPE and landmark NME, seconds.
* **Without the coding sheet**: the arm ``flow_baseline_no_sheet`` is the flow baseline on
  clips preprocessed with ``preprocessing.apex: estimated`` (its apex from the face's motion,
  as for recordings nobody coded), beside MOL, which reads no apex.
* **Harder settings** (``--at POINT ...``): the same arms and seeds on a sweep point's corpus
  (for example ``--at default amplitude_x0.5``).
* **Difficulty sweep** (``--sweep``): corpora whose action-unit amplitude is scaled, or whose
  head motion is raised (and one drawn from another corpus seed at the default difficulty),
  each scored with MOL (``full``) and the flow baseline at the first training seed.
* **Stabilisation** (``--stabilisation none ecc ...``): every measurement above is made with
  each named ``preprocessing.stabilisation`` (default: the configured one); the workspace's
  clips are preprocessed for each in turn (the cache keeps every variant).

Each record names the flow targets it was trained with (``preprocessing.flow_brightness`` of
the configuration; records from before that parameter count as ``none``) and the
stabilisation of its clips (records from before it count as ``none``); tables show the
records of the current flow targets (and those of arms that never read flow targets), one
row per arm and stabilisation.
Prints Markdown tables, writes ``benchmarks/results/ablation.json`` (appended run by run: an
interrupted benchmark resumes where it stopped) and ``benchmarks/results/difficulty_sweep.png``,
and logs both to the project's MLflow store (experiment ``micro_expression_benchmarks``).
``--project`` names another project to copy and log to; ``--output`` another records file,
the figure and the workspaces going in its folder.

Usage: ``python benchmarks/ablation.py [--arms ...] [--seeds 42 43 44] [--at default ...]
[--sweep [--points ...]] [--stabilisation none ecc] [--threads N] [--fresh] [--report]
[--project PATH] [--output PATH]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from micro_expression.face.stabilisation import STABILISATIONS
from micro_expression.project_copy import copy_configuration

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RECORDS = RESULTS / "ablation.json"
FIGURE = RESULTS / "difficulty_sweep.png"
WORKSPACES = RESULTS / "workspaces"
SCORE_COLUMNS = ("accuracy", "uf1", "uar", "wf1", "flow_epe", "landmark_nme")

MOL = {"training.model": "mol"}
ARMS: dict[str, tuple[str, dict[str, str]]] = {
    "mer_only": ("MER only", {**MOL, "training.tasks.flow": "false",
                              "training.tasks.landmarks": "false"}),
    "landmarks": ("MER + landmarks", {**MOL, "training.tasks.flow": "false",
                                      "training.tasks.landmarks": "true"}),
    "flow": ("MER + flow", {**MOL, "training.tasks.flow": "true",
                            "training.tasks.landmarks": "false"}),
    "full": ("MER + flow + landmarks (MOL, default)", {**MOL}),
    "reference": ("reference modules, all tasks", {**MOL, "training.variant": "reference"}),
    "reference_frames": (
        "reference modules and input (frames alone, per clip)",
        {**MOL, "training.variant": "reference", "training.input.representation": "frames",
         "training.input.normalisation": "clip"},
    ),
    "flow_baseline": ("flow baseline (STSTNet, onset-apex TV-L1)",
                      {"training.model": "flow_baseline"}),
    "flow_baseline_no_sheet": ("flow baseline, apex estimated (no coding sheet)",
                               {"training.model": "flow_baseline"}),
}
ARM_PREPROCESSING: dict[str, dict[str, str]] = {
    "flow_baseline_no_sheet": {"preprocessing.apex": "estimated"},
}
"""Arms whose clips are prepared differently: the corpus is preprocessed so before they run
(the cache keeps every variant, so switching back costs nothing)."""
DEFAULT_AMPLITUDE = (0.4, 2.5)
DEFAULT_JITTER = 0.3
SWEEP = {
    # point: (amplitude scale, head jitter px, corpus seed)
    "amplitude_x0.25": (0.25, DEFAULT_JITTER, None),
    "amplitude_x0.5": (0.5, DEFAULT_JITTER, None),
    "amplitude_x2": (2.0, DEFAULT_JITTER, None),
    "jitter_0.9": (1.0, 0.9, None),
    "jitter_1.8": (1.0, 1.8, None),
    "jitter_3.6": (1.0, 3.6, None),
    "jitter_7": (1.0, 7.0, None),
    "corpus_seed_7": (1.0, DEFAULT_JITTER, 7),  # another corpus at the default difficulty
}
SWEEP_ARMS = ("full", "flow_baseline")


def preprocessing_setting(project: Path, name: str) -> str:
    """A configured ``preprocessing.<name>`` (conf/base of ``project``)."""
    path = project / "conf" / "base" / "parameters_preprocessing.yml"
    return str(yaml.safe_load(path.read_text())["preprocessing"][name])


@dataclass(frozen=True)
class Study:
    """What a run reads and writes: the project whose configuration the workspaces copy and
    whose MLflow store gets the tables, and the records file, with the sweep figure and the
    workspaces in its folder."""

    project: Path
    records: Path

    @property
    def figure(self) -> Path:
        return self.records.with_name(FIGURE.name)

    @property
    def workspaces(self) -> Path:
        return self.records.parent / WORKSPACES.name

    def flow_targets(self) -> str:
        """The configured flow-target brightness handling, which changes what flow arms learn."""
        return preprocessing_setting(self.project, "flow_brightness")


TARGET_FREE_ARMS = ("mer_only", "landmarks")
"""Arms that never read the flow targets: their records stand whichever targets were current
(MER only at seed 42 scored UF1 0.9174 with the old targets and with the gained ones)."""


def stabilisation_of(record: dict[str, Any]) -> str:
    """The stabilisation a record's clips had (``none`` before the setting existed)."""
    return record.get("stabilisation", "none")


def current(records: list[dict[str, Any]], study: Study) -> list[dict[str, Any]]:
    """Records valid for the configured flow targets, one per (point, arm, seed,
    stabilisation): measured with them, or from an arm that does not read them (the newest
    record wins)."""
    targets = study.flow_targets()
    valid = {}
    for record in sorted(records, key=lambda r: r.get("flow_targets", "none") == targets):
        if record["arm"] in TARGET_FREE_ARMS or record.get("flow_targets", "none") == targets:
            key = (record["point"], record["arm"], record["seed"], stabilisation_of(record))
            valid[key] = record
    return list(valid.values())


def make_workspace(project: Path, workspaces: Path, name: str,
                   synthetic: dict[str, Any] | None = None) -> Path:
    """A copy of ``project`` (configuration only) in ``workspaces``, with ``synthetic``
    parameter overrides in conf/local."""
    workspace = workspaces / name
    copy_configuration(project, workspace)  # refreshed on every call: a resumed one runs today's
    (workspace / "logs").mkdir(exist_ok=True)
    if synthetic:
        overrides = workspace / "conf" / "local" / "parameters_synthetic.yml"
        overrides.write_text(yaml.safe_dump({"synthetic": synthetic}))
    return workspace


def kedro_run(workspace: Path, log_name: str, *args: str) -> float:
    """`kedro run <args>` in the workspace, logged to logs/<log_name>.log; returns seconds."""
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    started = time.perf_counter()
    with open(workspace / "logs" / f"{log_name}.log", "w") as log:
        result = subprocess.run([kedro, "run", *args], cwd=workspace, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    if result.returncode:
        raise RuntimeError(f"kedro run {' '.join(args)} failed in {workspace}: see "
                           f"{workspace / 'logs' / log_name}.log")
    return time.perf_counter() - started


def prepare_corpus(workspace: Path, stabilisation: str, arm: str | None = None) -> float:
    """Generate, ingest and preprocess the workspace's corpus with ``stabilisation`` and the
    preprocessing ``arm`` needs (a no-op when current); the training runs after it read
    these clips."""
    params = {"preprocessing.stabilisation": stabilisation, **ARM_PREPROCESSING.get(arm, {})}
    return kedro_run(workspace, f"data_{stabilisation}_{arm or 'arms'}", "--pipelines",
                     "synthetic,ingestion,preprocessing", "--params",
                     ",".join(f"{k}={v}" for k, v in params.items()))


def run_arm(workspace: Path, arm: str, seed: int, threads: int | None) -> dict[str, Any]:
    """One LOSO run of ``arm`` at training seed ``seed``: its overall scores and seconds."""
    params = {**ARMS[arm][1], "training.seed": str(seed)}
    if threads:
        params["training.threads"] = str(threads)
    seconds = kedro_run(
        workspace, f"{arm}_seed{seed}", "--pipelines", "splitting,training,evaluation",
        "--params", ",".join(f"{k}={v}" for k, v in params.items()),
    )
    scores = pd.read_csv(workspace / "data" / "08_reporting" / "loso_scores.csv")
    overall = scores.set_index("scope").loc["overall"]
    return {"seconds": round(seconds, 1),
            **{k: None if pd.isna(overall[k]) else round(float(overall[k]), 4)
               for k in SCORE_COLUMNS}}


def load_records(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["records"] if path.is_file() else []


def save_records(records: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"records": records}, indent=2))


def measured(records: list[dict[str, Any]], study: Study, point: str, arm: str, seed: int,
             stabilisation: str) -> bool:
    """Whether the current records hold this (point, arm, seed, stabilisation)."""
    return any((r["point"], r["arm"], r["seed"], stabilisation_of(r))
               == (point, arm, seed, stabilisation) for r in current(records, study))


def measure(records: list[dict[str, Any]], study: Study, workspace: Path, point: str, arm: str,
            seed: int, stabilisation: str, threads: int | None = None) -> None:
    """Run one (point, arm, seed, stabilisation) unless the records already hold it (the
    workspace's clips must have been prepared with that stabilisation); append and save."""
    if measured(records, study, point, arm, seed, stabilisation):
        return
    row = {"point": point, "arm": arm, "seed": seed, "flow_targets": study.flow_targets(),
           "stabilisation": stabilisation, **run_arm(workspace, arm, seed, threads)}
    records.append(row)
    save_records(records, study.records)
    print(f"{point} {arm} seed {seed} stabilisation {stabilisation}: "  # noqa: T201
          f"UF1 {row['uf1']:.3f} UAR {row['uar']:.3f} ({row['seconds']:.0f} s)", flush=True)


def ablation_table(records: list[dict[str, Any]], study: Study,
                   point: str = "default") -> pd.DataFrame:
    """Mean and standard deviation over seeds of each (arm, stabilisation) on one corpus
    (current targets)."""
    columns = ["arm", "stabilisation", "seed", *SCORE_COLUMNS, "seconds"]
    frame = pd.DataFrame([{**r, "stabilisation": stabilisation_of(r)}
                          for r in current(records, study) if r["point"] == point]).reindex(
        columns=columns)  # records kept from a table have only their scores
    groups = frame.groupby(["arm", "stabilisation"])
    table = groups[list(SCORE_COLUMNS) + ["seconds"]].agg(["mean", "std"])
    table[("seeds", "count")] = groups["seed"].nunique()
    order = [(a, s) for a in ARMS for s in sorted(frame["stabilisation"].unique())]
    return table.reindex([key for key in order if key in table.index])


def sweep_table(records: list[dict[str, Any]], study: Study, seed: int) -> pd.DataFrame:
    """UF1 and UAR of MOL and the baseline at each sweep point (and the default corpus)."""
    points = {"default": (1.0, DEFAULT_JITTER, None), **SWEEP}
    rows = [
        {"point": r["point"], "amplitude_scale": points[r["point"]][0],
         "head_jitter_px": points[r["point"]][1], "arm": r["arm"],
         "stabilisation": stabilisation_of(r), "uf1": r["uf1"], "uar": r["uar"]}
        for r in current(records, study)
        if r["point"] in points and r["arm"] in SWEEP_ARMS and r["seed"] == seed
        and points[r["point"]][2] is None
    ]
    return pd.DataFrame(rows)


def plot_sweep(table: pd.DataFrame, path: Path) -> None:
    """UF1 against amplitude (default jitter) and against head jitter (default amplitude)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.0, 3.6), layout="constrained")
    amplitude_axes, jitter_axes = figure.subplots(1, 2, sharey=True)
    labels = {"full": "MOL (small, all tasks)", "flow_baseline": "flow baseline (STSTNet)"}
    colours = {"full": "tab:blue", "flow_baseline": "tab:orange"}
    for (arm, stabilisation), part in table.groupby(["arm", "stabilisation"]):
        style = dict(color=colours[arm], marker="o" if arm == "full" else "s",
                     linestyle="-" if stabilisation != "none" else ":")
        label = f"{labels[arm]}, stabilisation {stabilisation}"
        by_amplitude = part[part["head_jitter_px"] == DEFAULT_JITTER].sort_values("amplitude_scale")
        peak = [DEFAULT_AMPLITUDE[1] * s for s in by_amplitude["amplitude_scale"]]
        amplitude_axes.plot(peak, by_amplitude["uf1"], label=label, **style)
        by_jitter = part[part["amplitude_scale"] == 1.0].sort_values("head_jitter_px")
        jitter_axes.plot(by_jitter["head_jitter_px"], by_jitter["uf1"], label=label, **style)
    amplitude_axes.set_xscale("log", base=2)
    amplitude_axes.set_xlabel("largest apex displacement in the frame (px, log scale)")
    amplitude_axes.set_ylabel("LOSO UF1 (8 subjects, 72 clips)")
    amplitude_axes.set_title(f"motion amplitude (head jitter {DEFAULT_JITTER} px)")
    jitter_axes.set_xlabel("peak rigid head motion (px)")
    jitter_axes.set_title(f"head motion (amplitude {DEFAULT_AMPLITUDE[1]} px peak)")
    for axes in (amplitude_axes, jitter_axes):
        axes.axhline(1 / 3, color="grey", linewidth=0.8, linestyle=":")
        axes.set_ylim(0.0, 1.02)
        axes.grid(alpha=0.3)
    jitter_axes.legend(loc="lower left", fontsize="x-small")
    figure.savefig(path, dpi=120)


def log_to_mlflow(study: Study, ablations: dict[str, pd.DataFrame],
                  sweep: pd.DataFrame | None) -> None:
    """The tables (and the sweep figure) as artifacts of one run in the project's store."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{study.project / 'mlflow.db'}")
    # MLflow puts a new experiment's artifacts under ./mlruns: the project's, like its runs'.
    with contextlib.chdir(study.project):
        mlflow.set_experiment("micro_expression_benchmarks")
    with mlflow.start_run(run_name="ablation"):
        mlflow.set_tag("flow_targets", study.flow_targets())
        mlflow.log_artifact(str(study.records))
        for point, table in ablations.items():
            mlflow.log_text(table.to_csv(), f"ablation_{point}.csv")
            for (arm, stabilisation), row in table.iterrows():
                mlflow.log_metric(f"{point}.{arm}.{stabilisation}.uf1_mean",
                                  float(row[("uf1", "mean")]))
        if sweep is not None:
            mlflow.log_text(sweep.to_csv(index=False), "difficulty_sweep.csv")
            mlflow.log_artifact(str(study.figure))


def point_workspace(study: Study, point: str) -> Path:
    """The workspace of a corpus: the default one, or a sweep point's."""
    if point == "default":
        return make_workspace(study.project, study.workspaces, "default")
    scale, jitter, corpus_seed = SWEEP[point]
    synthetic: dict[str, Any] = {
        "amplitude_px": [DEFAULT_AMPLITUDE[0] * scale, DEFAULT_AMPLITUDE[1] * scale],
        "nuisance": {"head_jitter_px": jitter},
    }
    if corpus_seed is not None:
        synthetic["seed"] = corpus_seed
    return make_workspace(study.project, study.workspaces, point, synthetic)


def print_ablation(study: Study, point: str, table: pd.DataFrame) -> None:
    """One Markdown table: mean ± standard deviation over seeds of each arm."""
    print(f"\n{point} corpus, flow targets {study.flow_targets()}")  # noqa: T201
    print("| arm | stabilisation | seeds | UF1 | UAR | accuracy | flow EPE (px) | landmark NME "  # noqa: T201
          "| s per run |")
    print("|---|---|---|---|---|---|---|---|---|")  # noqa: T201
    for (arm, stabilisation), row in table.iterrows():
        def cell(name: str) -> str:
            mean, std = row[(name, "mean")], row[(name, "std")]
            if pd.isna(mean):
                return "-"
            return f"{mean:.3f}" if pd.isna(std) else f"{mean:.3f} ± {std:.3f}"
        seeds = int(row[("seeds", "count")])
        print(f"| {ARMS[arm][0]} | {stabilisation} | {seeds} | {cell('uf1')} | {cell('uar')} | "  # noqa: T201
              f"{cell('accuracy')} | {cell('flow_epe')} | {cell('landmark_nme')} | "
              f"{row[('seconds', 'mean')]:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    parser.add_argument("--at", nargs="+", choices=["default", *SWEEP], default=["default"],
                        help="corpora on which the arms run over every seed (default: default)")
    parser.add_argument("--sweep", action="store_true", help="also run the difficulty sweep")
    parser.add_argument("--points", nargs="+", choices=list(SWEEP), default=list(SWEEP),
                        help="sweep points to measure, in this order (default: all)")
    parser.add_argument("--stabilisation", nargs="+", choices=list(STABILISATIONS),
                        help="preprocessing.stabilisation of the clips (default: configured)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per run (default: every core)")
    parser.add_argument("--fresh", action="store_true",
                        help="forget earlier records and workspaces instead of resuming")
    parser.add_argument("--report", action="store_true",
                        help="measure nothing: tables, figure and MLflow run from the records")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the Kedro project the workspaces copy and the tables are logged "
                             "to (default: this one)")
    parser.add_argument("--output", type=Path, default=RECORDS,
                        help="the records (JSON); the figure and the workspaces go beside it")
    args = parser.parse_args()
    study = Study(args.project.resolve(), args.output.resolve())
    stabilisations = args.stabilisation or [preprocessing_setting(study.project, "stabilisation")]
    if args.fresh:
        shutil.rmtree(study.workspaces, ignore_errors=True)
        study.records.unlink(missing_ok=True)
    records = load_records(study.records)

    def measure_all(point: str, arms: list[str], seeds: list[int]) -> None:
        workspace = point_workspace(study, point)
        for stabilisation in stabilisations:
            if all(measured(records, study, point, a, s, stabilisation)
                   for a in arms for s in seeds):
                continue
            # Arms on the configured clips first, then each arm that needs its own.
            by_clips = [(None, [a for a in arms if a not in ARM_PREPROCESSING])] + [
                (a, [a]) for a in arms if a in ARM_PREPROCESSING]
            for clips, group in by_clips:
                if not group:
                    continue
                prepare_corpus(workspace, stabilisation, clips)
                for seed in seeds:
                    for arm in group:
                        measure(records, study, workspace, point, arm, seed, stabilisation,
                                args.threads)

    if not args.report:
        for point in args.at:
            measure_all(point, args.arms, args.seeds)

    sweep = None
    if args.sweep:
        for point in args.points if not args.report else ():
            measure_all(point, list(SWEEP_ARMS), args.seeds[:1])
        sweep = sweep_table(records, study, args.seeds[0])
        plot_sweep(sweep, study.figure)

    ablations = {}  # the default corpus, and every corpus the arms ran on over several seeds
    for point in ("default", *SWEEP):
        if any(r["point"] == point for r in current(records, study)):
            table = ablation_table(records, study, point)
            if point == "default" or table[("seeds", "count")].max() > 1:
                ablations[point] = table
    for point, table in ablations.items():
        print_ablation(study, point, table)
    if sweep is not None:
        print("\n| point | model | stabilisation | UF1 | UAR |\n|---|---|---|---|---|")  # noqa: T201
        for row in sweep.itertuples():
            uar = "-" if pd.isna(row.uar) else f"{row.uar:.3f}"
            print(f"| {row.point} | {row.arm} | {row.stabilisation} | {row.uf1:.3f} | "  # noqa: T201
                  f"{uar} |")
        for r in current(records, study):
            if r["point"] == "corpus_seed_7":
                uar = "-" if r.get("uar") is None else f"{r['uar']:.3f}"
                print(f"corpus seed 7, {r['arm']}: UF1 {r['uf1']:.3f} UAR {uar}")  # noqa: T201
        print(f"wrote {study.figure}")  # noqa: T201
    log_to_mlflow(study, ablations, sweep)
    print(f"wrote {study.records}")  # noqa: T201


if __name__ == "__main__":
    main()
