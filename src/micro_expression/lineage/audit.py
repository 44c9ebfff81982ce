"""The lineage of a registered model or a run, read back from MLflow for an audit."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import mlflow
import pandas as pd
import yaml
from kedro.io import DatasetError
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion

from micro_expression.io.packaged_model import resolve_model_uri
from micro_expression.lineage.ancestry import (
    CLIP_HASHES_ARTIFACT,
    CLIP_INDEX,
    CONFLICT_TAG,
    clip_hashes,
    inherited_tag,
)
from micro_expression.lineage.tables import TRACKED_TABLES
from micro_expression.mappings import flatten

ARTIFACT_FOLDERS = ("ingestion", "preprocessing")


@dataclass
class Lineage:
    """What an audit follows: the model version (if one was asked for), the run that made it,
    its fold runs, for each tracked table the run that logged it as artifacts, and the
    per-clip content hashes of the run's clip index (None when no run holds them)."""

    run: Run
    version: ModelVersion | None = None
    aliases: list[str] = field(default_factory=list)
    folds: list[Run] = field(default_factory=list)
    table_runs: dict[str, Run] = field(default_factory=dict)
    clip_hashes: dict[str, str] | None = None

    @property
    def digests(self) -> dict[str, str]:
        """``{table: sha256}`` of the tracked tables the run read or wrote, or descends from."""
        tags = self.run.data.tags
        return {name: tags[f"{name}_digest"] for name in TRACKED_TABLES if f"{name}_digest" in tags}

    @property
    def conflict(self) -> str | None:
        """Why the run's record contradicts itself (it read a table other than the one its
        other inputs were made from); None when it does not."""
        return self.run.data.tags.get(CONFLICT_TAG)

    def inherited(self, name: str) -> str | None:
        """Where the run's digest of ``name`` came from when the run did not read it itself."""
        return self.run.data.tags.get(inherited_tag(name))

    def untraced(self) -> str | None:
        """What keeps the run's data from being followed to the raw dataset (None: nothing)."""
        if CLIP_INDEX in self.digests:
            return None
        why = "the run records no clip index, so nothing ties its data to the raw dataset"
        if self.digests:
            why += (f" (its {', '.join(self.digests)} carries no record of the clip index it "
                    "was made from: written before lineage was recorded, or not by a kedro run)")
        return why


def resolve_target(client: mlflow.MlflowClient, target: str) -> tuple[Run, ModelVersion | None]:
    """The run behind ``target`` (``models:/name/version``, ``models:/name@alias``,
    ``models:/name[/latest]``, ``runs:/<id>/...`` or a bare run id) and the model version."""
    if target.startswith("models:/"):
        try:
            _, name, number = resolve_model_uri(target, client)
        except DatasetError as error:
            raise LookupError(str(error)) from error
        version = client.get_model_version(name, number)
        if not version.run_id:
            raise LookupError(f"{target}: the version names no run")
        return client.get_run(version.run_id), version
    run_id = target.removeprefix("runs:/").split("/", 1)[0]
    return client.get_run(run_id), None


def read_lineage(client: mlflow.MlflowClient, target: str) -> Lineage:
    """Everything :class:`Lineage` holds for ``target`` (see :func:`resolve_target`)."""
    run, version = resolve_target(client, target)
    aliases = list(version.aliases) if version is not None else []
    folds = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'",
        order_by=["attributes.start_time ASC"],
    )
    lineage = Lineage(run=run, version=version, aliases=aliases, folds=list(folds))
    for name, digest in lineage.digests.items():
        logged = table_run(client, run, name, digest)
        if logged is not None:
            lineage.table_runs[name] = logged
    lineage.clip_hashes = recorded_clip_hashes(client, lineage)
    return lineage


def recorded_clip_hashes(client: mlflow.MlflowClient, lineage: Lineage) -> dict[str, str] | None:
    """``{clip_id: content_hash}`` of the run's clip index: the run's own record
    (:data:`CLIP_HASHES_ARTIFACT`), else the clip index artifact of the run that logged that
    table (runs recorded before the per-clip record); None when neither exists."""
    sources = [(lineage.run, CLIP_HASHES_ARTIFACT)]
    if CLIP_INDEX in lineage.table_runs:
        sources.append((lineage.table_runs[CLIP_INDEX], f"ingestion/{CLIP_INDEX}.csv"))
    for run, path in sources:
        table = _artifact_csv(client, run.info.run_id, path)
        if table is not None:
            return clip_hashes(table)
    return None


def clip_changes(recorded: Mapping[str, str], now: Mapping[str, str]) -> dict[str, list[str]]:
    """The clip ids ``added``, ``removed`` and ``changed`` (another content hash) from the
    ``recorded`` ``{clip_id: content_hash}`` to ``now``, each sorted."""
    return {
        "added": sorted(now.keys() - recorded.keys()),
        "removed": sorted(recorded.keys() - now.keys()),
        "changed": sorted(c for c in recorded.keys() & now.keys() if recorded[c] != now[c]),
    }


def table_run(client: mlflow.MlflowClient, run: Run, name: str, digest: str) -> Run | None:
    """The earliest run of ``run``'s experiment that logged table ``name`` with ``digest``
    as an artifact (the run itself when it did)."""
    candidates = client.search_runs(
        [run.info.experiment_id], f"tags.{name}_digest = '{digest}'",
        order_by=["attributes.start_time ASC"],
    )
    for candidate in candidates:
        for folder in ARTIFACT_FOLDERS:
            paths = {a.path for a in client.list_artifacts(candidate.info.run_id, folder)}
            if f"{folder}/{name}.csv" in paths:
                return candidate
    return None


def changed_parameters(
    logged: Mapping[str, str], defaults: Mapping[str, Any]
) -> dict[str, tuple[str, str]]:
    """``{name: (default, used)}`` for each logged parameter whose value is not the default
    (``<none>`` where the defaults lack it); compared as MLflow stores them, as text."""
    flat_defaults = flatten(defaults)
    changed = {}
    for name, used in sorted(logged.items()):
        default = str(flat_defaults[name]) if name in flat_defaults else "<none>"
        if _same(default, used):
            continue
        changed[name] = (default, used)
    return changed


def dataset_parameters(tags: Mapping[str, str]) -> dict[str, Any]:
    """The data a run read (name, root or roots, classes), from its ``dataset.*`` tags, typed
    again."""
    nested: dict[str, Any] = {}
    for key, text in tags.items():
        if not key.startswith("dataset."):
            continue
        *parents, leaf = key.removeprefix("dataset.").split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        textual = leaf in ("name", "root") or parents == ["roots"]
        node[leaf] = text if textual or not text else yaml.safe_load(text)
    return nested


def _artifact_csv(client: mlflow.MlflowClient, run_id: str, path: str) -> pd.DataFrame | None:
    """A CSV artifact of a run, every cell as text; None when the run has no such file."""
    folder = path.rsplit("/", 1)[0]
    if path not in {a.path for a in client.list_artifacts(run_id, folder)}:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        return pd.read_csv(client.download_artifacts(run_id, path, scratch), dtype=str)


def _same(default: str, used: str) -> bool:
    if default == used:
        return True
    try:  # "0.002" and "2e-3", "1" and "1.0"
        return float(default) == float(used)
    except ValueError:
        return False
