"""Project commands: ``kedro lineage`` (audit a model or run) and ``kedro relocate-store``."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pandas as pd
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from micro_expression.lineage.ancestry import CLIP_INDEX, clip_hashes
from micro_expression.lineage.audit import (
    Lineage,
    changed_parameters,
    clip_changes,
    dataset_parameters,
    read_lineage,
)
from micro_expression.lineage.orphans import close_orphan_runs
from micro_expression.lineage.relocate import relocate_store, store_path
from micro_expression.lineage.tables import TRACKED_TABLES

# Kedro and kedro-mlflow call an omegaconf function that omegaconf now deprecates: noise in
# an audit's output, and nothing the user can act on.
warnings.filterwarnings("ignore", "register_new_resolver", UserWarning)

EXIT_CHANGED, EXIT_NOT_FOUND, EXIT_NOT_CHECKED = 1, 2, 3
CLIPS_LISTED = 20
"""Clips named per kind of change (added, removed, changed); the rest are counted."""


@dataclass
class DataCheck:
    """What an audit found: the tables that changed, and what it could not check."""

    changed: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


@click.group(name="micro_expression")
def cli() -> None:
    """Commands of the micro_expression project."""


@cli.command()
@click.argument("target")
@click.option("--env", "-e", default=None, help="Kedro configuration environment to read.")
@click.option("--rescan/--no-rescan", default=True, show_default=True,
              help="Read the raw dataset again and digest the clip index it gives.")
def lineage(target: str, env: str | None, rescan: bool) -> None:
    """Print the lineage of TARGET (models:/name/version, models:/name@alias,
    models:/name[/latest], runs:/<id> or a run id) and check that the data on disk, down to
    the raw frames, still has the digests it was made from, naming the clips that changed.
    Exit status 1 when data changed, 2 when TARGET cannot be found, 3 when nothing was found
    changed but part of the chain could not be checked. Runs of the store whose process is
    gone are marked FAILED first."""
    import mlflow

    project = Path.cwd()
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        context = session.load_context()
        server = context.config_loader["mlflow"]["server"]
        mlflow.set_tracking_uri(server["mlflow_tracking_uri"])
        mlflow.set_registry_uri(server.get("mlflow_registry_uri") or server["mlflow_tracking_uri"])
        client = mlflow.MlflowClient()
        for run, reason in close_orphan_runs(client, "kedro lineage"):
            click.echo(f"marked run {run.info.run_name} [{run.info.run_id}] FAILED: {reason}",
                       err=True)
        try:
            found = read_lineage(client, target)
        except (LookupError, mlflow.exceptions.MlflowException) as error:
            click.echo(f"cannot follow {target}: {error}", err=True)
            sys.exit(EXIT_NOT_FOUND)
        _print_chain(found, context.params)
        check = _check_data(found, project, env, rescan)
    if check.changed:
        click.echo(f"\nDATA CHANGED since this run: {', '.join(check.changed)}")
        sys.exit(EXIT_CHANGED)
    if check.unchecked:
        click.echo(f"\nDATA NOT CHECKED to the raw dataset: {'; '.join(check.unchecked)}")
        sys.exit(EXIT_NOT_CHECKED)
    skipped = "" if rescan else " (the raw dataset was not read again: --no-rescan)"
    click.echo(f"\ndata unchanged since this run{skipped}")


@cli.command(name="relocate-store")
@click.option("--env", "-e", default=None, help="Kedro configuration environment to read.")
def relocate(env: str | None) -> None:
    """Point the local MLflow store's artifact locations at this project's ./mlruns (done
    on every run too; for a project that was moved or copied and is opened in the UI first)."""
    project = Path.cwd()
    bootstrap_project(project)
    # The project's own config loader: its settings (and kedro-mlflow's) add the mlflow
    # pattern that a bare OmegaConfigLoader lacks.
    with KedroSession.create(project_path=project, env=env) as session:
        server = session.load_context().config_loader["mlflow"]["server"]
    uri = str(server["mlflow_tracking_uri"] or "")
    database = store_path(uri, project)
    if database is None:
        click.echo(f"{uri!r} is not a sqlite store in this project: nothing to relocate")
        return
    # Opening the session already relocates (LineageHooks.after_context_created); this
    # catches whatever is left and says where the store points.
    relocate_store(database, project / "mlruns")
    click.echo(f"MLflow store {database}: artifact locations now under {project / 'mlruns'}")


def _print_chain(found: Lineage, defaults: dict[str, Any]) -> None:
    run, tags = found.run, found.run.data.tags
    if found.version is not None:
        version = found.version
        aliases = f" (aliases: {', '.join(found.aliases)})" if found.aliases else ""
        click.echo(f"model    {version.name} version {version.version}{aliases}")
        if version.description:
            click.echo(_indent(version.description))
    started = datetime.fromtimestamp(run.info.start_time / 1000, UTC)
    click.echo(f"run      {run.info.run_name}  [{run.info.run_id}]  {run.info.status}, "
               f"started {started:%Y-%m-%d %H:%M:%S} UTC")
    dirty = " with uncommitted changes" if tags.get("git_dirty") == "true" else ", clean tree"
    click.echo(f"code     commit {tags.get('git_commit', 'unknown')}{dirty}; "
               f"micro_expression {tags.get('version.micro_expression', '?')}, "
               f"kedro {tags.get('version.kedro', '?')}, torch {tags.get('version.torch', '?')}")
    changed = changed_parameters(run.data.params, defaults)
    click.echo(f"params   {len(run.data.params)} logged, {len(changed)} differ from the defaults"
               + (":" if changed else ""))
    for name, (default, used) in changed.items():
        click.echo(f"           {name} = {used}   (default {default})")
    dataset = dataset_parameters(tags)
    click.echo(f"dataset  {dataset.get('name', '?')} at {dataset.get('root', '?')}, "
               f"{dataset.get('classes', '?')} classes")
    for name, digest in found.digests.items():
        logged = found.table_runs.get(name)
        where = (f"  tables in run {logged.info.run_name} [{logged.info.run_id[:8]}]"
                 if logged else "")
        inherited = f"  inherited {found.inherited(name)}" if found.inherited(name) else ""
        click.echo(f"           {name:<25} sha256 {digest[:16]}…{inherited}{where}")
    if found.clip_hashes is not None:
        click.echo(f"           content hashes of {len(found.clip_hashes)} clips recorded")
    if found.folds:
        scores = [f"{f.data.tags.get('fold', f.info.run_name)} {f.data.metrics['test_uf1']:.3f}"
                  for f in found.folds if "test_uf1" in f.data.metrics]
        click.echo(f"folds    {len(found.folds)} runs" + (f"; UF1 {', '.join(scores)}"
                                                         if scores else ""))
    overall = {k: v for k, v in run.data.metrics.items() if k.startswith("loso.overall.")}
    if overall:
        click.echo("scores   " + ", ".join(f"{k.removeprefix('loso.overall.')} {v:.3f}"
                                           for k, v in sorted(overall.items())))


def _check_data(found: Lineage, project: Path, env: str | None, rescan: bool) -> DataCheck:
    """Digest the tables on disk (and, with ``rescan``, the raw dataset) again, and say
    which no longer match the run and what could not be checked."""
    click.echo("\nchecking the data on disk against the run's digests")
    check = DataCheck()
    if found.conflict:
        click.echo(f"  {'the run':<25} CONTRADICTS ITSELF: {found.conflict}")
        check.changed.append("the run's own inputs")
    dataset = dataset_parameters(found.run.data.tags)
    runtime = {"dataset": {k: v for k, v in dataset.items() if k in ("name", "root", "roots",
                                                                     "classes")}}
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime) as session:
        catalog = session.load_context().catalog
        for name, recorded in found.digests.items():
            _check_table(found, name, recorded, catalog, check)
        if rescan and CLIP_INDEX in found.digests:
            _check_raw(found, dataset, catalog, check)
    untraced = found.untraced()
    if untraced:
        check.unchecked.append(untraced)
    for reason in check.unchecked:
        click.echo(f"  NOT CHECKED: {reason}")
    return check


def _check_table(found: Lineage, name: str, recorded: str, catalog: Any,
                 check: DataCheck) -> None:
    """Digest table ``name`` on disk again (a missing or unreadable table has changed)."""
    try:
        table = catalog.load(name)
        now = TRACKED_TABLES[name].digest(table)
    except Exception as error:
        click.echo(f"  {name:<25} cannot be read now: {error}")
        check.changed.append(name)
        return
    if _report(name, recorded, now, check.changed) and name == CLIP_INDEX:
        _report_clips(found.clip_hashes, table)


def _check_raw(found: Lineage, dataset: dict[str, Any], catalog: Any, check: DataCheck) -> None:
    """Read the raw dataset again, index it as ingestion does, and compare the index with
    the run's clip index: its digest, then clip by clip."""
    if not dataset.get("name"):
        check.unchecked.append("the run names no dataset (no dataset.* tags) to read again")
        return
    from micro_expression.pipelines.ingestion.nodes import build_clip_index

    label = f"raw dataset ({dataset['name']})"
    try:
        index, _ = build_clip_index(catalog.load("raw_dataset"),
                                    _ingestion_params(found.run, catalog))
        now = TRACKED_TABLES[CLIP_INDEX].digest(index)
    except Exception as error:
        click.echo(f"  {label:<25} cannot be read now: {error}")
        check.changed.append(label)
        return
    if _report(label, found.digests[CLIP_INDEX], now, check.changed):
        _report_clips(found.clip_hashes, index)


def _report_clips(recorded: Mapping[str, str] | None, now: pd.DataFrame) -> None:
    """Name the clips added, removed or changed between the run's clip index and ``now``."""
    if recorded is None:
        click.echo("      the run holds no per-clip content hashes: the clips cannot be named")
        return
    changes = clip_changes(recorded, clip_hashes(now))
    if not any(changes.values()):
        click.echo("      no clip was added, removed or changed: what changed is in the coding "
                   "sheet or the ingestion settings (labels, frame ranges, frame sizes)")
    for kind, clips in changes.items():
        for clip in clips[:CLIPS_LISTED]:
            click.echo(f"      {kind:<8} {clip}")
        if len(clips) > CLIPS_LISTED:
            click.echo(f"      {kind:<8} ... and {len(clips) - CLIPS_LISTED} more clips")


def _ingestion_params(run: Any, catalog: Any) -> dict[str, Any]:
    """The ``ingestion`` parameters the run logged, over the project's for those it did not."""
    recorded = {key.removeprefix("ingestion."): yaml.safe_load(value)
                for key, value in run.data.params.items() if key.startswith("ingestion.")}
    return {**catalog.load("params:ingestion"), **recorded}


def _report(name: str, recorded: str, now: str, changed: list[str]) -> bool:
    """Print whether ``name`` still has its recorded digest; whether it changed."""
    same = recorded == now
    click.echo(f"  {name:<25} {'unchanged' if same else 'CHANGED'}  "
               f"(run {recorded[:12]}, now {now[:12]})")
    if not same:
        changed.append(name)
    return not same


def _indent(text: str) -> str:
    return "\n".join(f"         {line}" if line else "" for line in text.splitlines())
