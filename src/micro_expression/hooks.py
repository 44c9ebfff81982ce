"""Project hooks: lineage of every run in MLflow (code, environment, data digests, counts)."""

from __future__ import annotations

import logging
import shlex
import sys
import tempfile
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.framework.hooks import hook_impl

from micro_expression.cluster import one_at_a_time
from micro_expression.lineage import code_version, environment_versions
from micro_expression.lineage.ancestry import (
    CLIP_HASHES_ARTIFACT,
    CLIP_INDEX,
    CONFLICT_TAG,
    Descent,
    clip_hashes,
    inherited_tag,
    made_from,
    own_descent,
    stamp,
    stamped_descent,
    take_stamp,
)
from micro_expression.lineage.naming import run_name
from micro_expression.lineage.relocate import relocate_store, store_path
from micro_expression.lineage.tables import TRACKED_TABLES, TrackedTable
from micro_expression.mappings import flatten
from micro_expression.parameters import PARSERS, check_run_parameters, used_blocks
from micro_expression.project_lock import ProjectLock, acquire
from micro_expression.training.folds import trains_models, use_run_config

logger = logging.getLogger(__name__)

# mlflow's dataset table holds digests of at most 36 characters.
MLFLOW_DIGEST_LENGTH = 32
LOSO_PREDICTIONS, INFERENCE_PREDICTIONS = "loso_predictions", "inference_predictions"
EXPERIMENT_KIND_TAG, CLASSIC_ML_KIND = "mlflow.experimentKind", "custom_model_development"
NOISE_TAGS = ("runner", "project_path", "run_id", "extra_params", "kedro_version")
"""kedro-mlflow's copies of the run parameters that say nothing an auditor can use (an
object's address, the machine's absolute path, Kedro's session id under a misleading name,
Kedro's version beside the ``version.*`` tags)."""
DATA_INPUTS = {"raw_dataset", "clip_index", "preprocessed_index", "loso_folds"}
"""A run that reads one of these is about the configured dataset, so it gets its tags."""
CATALOG_PARAMETERS = ("dataset",)
"""Top-level runtime parameters that catalog entries read (``${runtime_params:dataset.*}``)."""
RAW_DATASET = "raw_dataset"
"""The catalog entry that chooses a run's data (its ``selection`` gives the ``dataset.*`` tags)."""


ARTIFACT_TABLES = {
    "clip_index": "ingestion",
    "rejected_clips": "ingestion",
    "preprocessed_index": "preprocessing",
    "preprocessing_rejections": "preprocessing",
}
"""Tables logged, when a run saves them, as artifacts under these folders (Parquet, and CSV
that the MLflow UI previews)."""


class FoldRegistrationHooks:
    """Builds the fold pipelines from the run's own configuration: Kedro registers pipelines
    from the files on disk, so ``--params splitting.protocol=...`` or ``synthetic.layout=...``
    would otherwise run the folds the files describe."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        use_run_config(context.project_path, context.config_loader)


class ParameterCheckHooks:
    """Parses every parameter block the run uses, and every block ``--params`` touches,
    before anything runs, and refuses a ``--params`` name that nothing reads (a misspelt
    block would otherwise be ignored in silence): a typo fails at once, not after an hour of
    preprocessing. ``tryfirst``, so no MLflow run opens for it."""

    def __init__(self) -> None:
        self._configured: set[str] = set()

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """The configured top-level parameter names: the parameter files read again without
        the runtime parameters (the context's loader has them merged in)."""
        loader = context.config_loader
        files_only = type(loader)(
            conf_source=loader.conf_source, env=loader.env, runtime_params={},
            base_env=loader.base_env, default_run_env=loader.default_run_env,
            config_patterns=loader.config_patterns, merge_strategy=loader.merge_strategy,
        )
        self._configured = set(files_only["parameters"])

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        extra = run_params.get("runtime_params") or {}
        blocks = set(used_blocks(pipeline.all_inputs())) | (set(extra) & set(PARSERS))
        check_run_parameters({b: catalog.load(f"params:{b}") for b in sorted(blocks)}, extra,
                             self._configured | set(CATALOG_PARAMETERS))


class ProjectLockHooks:
    """One run at a time per project (:mod:`micro_expression.project_lock`): a second run is
    refused before kedro-mlflow opens its MLflow run (``tryfirst``), and the lock is released
    after that run has closed (``trylast``)."""

    def __init__(self) -> None:
        self._held: ProjectLock | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The copy sent to Dask workers holds nothing: the lock stays with the driver."""
        return {"_held": None}

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        # A run of this process that an earlier hook stopped before it started never reached
        # the hooks below: its lock would refuse this run.
        self._release()
        self._held = acquire(Path(run_params["project_path"]), shlex.join(sys.argv))

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        self._release()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._held is not None:
            self._held.release()
            self._held = None


class LineageHooks:
    """Names each MLflow run after what it did, tags it with its code and environment, and
    digests the tracked tables it reads or writes.

    A tracked table a node saves is stamped with what it was made from (the digests of the
    node's tracked inputs and of their ancestors, and the per-clip hashes of their clip
    index: :mod:`micro_expression.lineage.ancestry`); a run that reads a stamped table
    inherits the digests of the tables it did not read itself, so every run names the clip
    index its data descends from.

    Runs after kedro-mlflow's hooks (``trylast``), so the run they open is active.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, Descent]] = {}
        """``{table: (digest, descent)}`` of the tracked tables this process read or wrote
        in this run."""
        self._dataset: dict[str, Any] = {}
        self._context = "preparation"
        self._catalog: Any = None
        self._project_path = Path.cwd()

    @hook_impl(trylast=True)
    def after_context_created(self, context: Any) -> None:
        """Rewrite artifact locations of a moved or copied project's local store (after
        kedro-mlflow's hook, which makes the ``mlflow`` configuration readable)."""
        project = Path(context.project_path)
        try:
            uri = context.config_loader["mlflow"]["server"]["mlflow_tracking_uri"]
        except (KeyError, TypeError):
            return
        database = store_path(str(uri or ""), project)
        if database is not None:
            relocate_store(database, project / "mlruns")

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._seen.clear()
        self._catalog = catalog
        self._project_path = Path(run_params.get("project_path") or ".")
        about_data = bool(DATA_INPUTS & set(pipeline.all_inputs() | pipeline.all_outputs()))
        self._dataset = _data_selection(catalog) if about_data else {}
        self._context = dataset_context(pipeline.all_outputs())
        run = mlflow.active_run()
        if run is None:
            return
        client = mlflow.MlflowClient()
        current = client.get_run(run.info.run_id).data.tags  # the active run's copy is stale
        for tag in NOISE_TAGS:
            if tag in current:
                client.delete_tag(run.info.run_id, tag)
        tags = code_version(self._project_path)
        if tags["git_commit"] != "unknown":  # the UI's Version column and commit links
            tags["mlflow.source.git.commit"] = tags["git_commit"]
        tags["kedro_session_id"] = str(run_params.get("run_id"))
        tags.update({f"version.{name}": v for name, v in environment_versions().items()})
        tags.update({
            f"dataset.{k}": str(v)
            for k, v in flatten(self._dataset, keep_empty=False).items()
            if v is not None
        })
        tags["mlflow.runName"] = run_name(
            run_params.get("pipeline_names"),
            datetime.fromtimestamp(run.info.start_time / 1000, UTC),
            run.info.run_id,
            self._dataset,
            _load_params(catalog, "training"),
            run_params.get("runtime_params"),
        )
        mlflow.set_tags(tags)
        # without it, MLflow 3's UI opens the experiment in its GenAI layout
        if client.get_experiment(run.info.experiment_id).tags.get(EXPERIMENT_KIND_TAG) is None:
            client.set_experiment_tag(run.info.experiment_id, EXPERIMENT_KIND_TAG,
                                      CLASSIC_ML_KIND)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Stamp a tracked table made from tracked tables with its descent (the node's
        inputs were loaded, so recorded, by this process)."""
        tracked = TRACKED_TABLES.get(dataset_name)
        parents = {name: self._seen[name] for name in node.inputs if name in self._seen}
        if tracked is None or not parents or not isinstance(data, pd.DataFrame):
            return
        run = mlflow.active_run()
        stamp(data, tracked.digest(data), made_from(parents, run.info.run_id if run else None))

    @hook_impl(trylast=True)
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        self._record(dataset_name, data)
        if dataset_name in ARTIFACT_TABLES and mlflow.active_run() is not None:
            _log_table(data, dataset_name, ARTIFACT_TABLES[dataset_name])

    @hook_impl(trylast=True)
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        self._record(dataset_name, data)

    def _record(self, name: str, data: Any) -> None:
        tracked = TRACKED_TABLES.get(name)
        if tracked is None or not isinstance(data, pd.DataFrame):
            return
        found = take_stamp(data)
        if name in self._seen:
            return
        digest = tracked.digest(data)
        descent = stamped_descent(found, digest) or own_descent(name, data)
        self._seen[name] = (digest, descent)
        if mlflow.active_run() is None:
            return
        run_id = mlflow.active_run().info.run_id
        # Folds on Dask workers load the same table at the same moment: one records it, the
        # others find its tags (two concurrent set_tag calls on sqlite can collide). One lock
        # per run: a table's record writes the tags of the tables it descends from.
        with one_at_a_time(f"lineage-{run_id}"):
            tags = mlflow.MlflowClient().get_run(run_id).data.tags
            own = tags.get(f"{name}_digest") == digest and inherited_tag(name) not in tags
            if not own:  # else another process of this run recorded it
                self._log_table_lineage(name, data, tracked, digest, tags)
            _inherit(name, digest, descent, tags)

    def _log_table_lineage(
        self, name: str, data: pd.DataFrame, tracked: TrackedTable, digest: str,
        tags: dict[str, str],
    ) -> None:
        """The table's digest tag, row and class counts, and dataset input, into the run (and
        a clip index's per-clip hashes)."""
        inherited = tags.get(inherited_tag(name))
        if inherited is not None:  # inherited from another input before the run read it
            recorded = tags[f"{name}_digest"]
            if recorded != digest:  # its other inputs were made from another table
                mlflow.set_tag(CONFLICT_TAG, f"this run's {name} is {digest[:12]}, but it "
                                             f"inherited {name} {recorded[:12]} {inherited}")
            mlflow.delete_tag(inherited_tag(name))  # the digest tag is the run's own now
        mlflow.set_tag(f"{name}_digest", digest)
        if name == CLIP_INDEX:
            _log_clip_hashes(clip_hashes(data))
        metrics = {f"{name}.rows": len(data)}
        if "subject" in data.columns:
            metrics[f"{name}.subjects"] = data["subject"].nunique()
        if tracked.counted_by and tracked.counted_by in data.columns:
            counts = data[tracked.counted_by].value_counts()
            metrics.update({f"{name}.{tracked.counted_by}.{k}": int(v) for k, v in counts.items()})
        mlflow.log_metrics(metrics)
        with warnings.catch_warnings():
            # mlflow registers its local source class twice and warns of the ambiguity, and
            # hints at model-signature pitfalls of integer columns: neither concerns lineage.
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(
                _scalar_columns(data), source=self._location(name), name=name,
                digest=digest[:MLFLOW_DIGEST_LENGTH],
            )
        # The input's digest is cut to what MLflow keeps; the tag holds the whole fingerprint.
        mlflow.log_input(dataset, context=self._context, tags={"sha256": digest})
        logger.info("%s: %d rows, digest %s", name, len(data), digest[:12])

    def _location(self, name: str) -> str:
        """Where a table lives: its catalog file, relative to the project when inside it."""
        try:
            described = self._catalog[name]._describe()
        except Exception:  # a table outside the catalog (a test's MemoryDataset, say)
            described = {}
        found = described.get("filepath") or (described.get("dataset") or {}).get("filepath")
        if not found:
            return str(self._dataset.get("root") or "unknown")
        path = Path(str(found))
        try:
            return str(path.resolve().relative_to(self._project_path.resolve()))
        except ValueError:
            return str(path)


def _inherit(name: str, digest: str, descent: Descent, tags: dict[str, str]) -> None:
    """Tag the run with the digests of the tables ``name`` was made from that it did not
    read itself (and the per-clip hashes of their clip index); a table it did read with
    another digest is a conflict."""
    for table, inherited in descent.ancestors.items():
        recorded = tags.get(f"{table}_digest")
        if recorded == inherited:
            continue
        if recorded is not None:
            mlflow.set_tag(CONFLICT_TAG, f"{name} {digest[:12]} was made from {table} "
                                         f"{inherited[:12]}, but this run's {table} is "
                                         f"{recorded[:12]}")
            continue
        mlflow.set_tags({
            f"{table}_digest": inherited,
            inherited_tag(table): f"from {name} {digest[:12]}, written by run "
                                  f"{descent.run_id or 'unknown'}",
        })
        if table == CLIP_INDEX and descent.clip_hashes:
            _log_clip_hashes(descent.clip_hashes)


def _log_clip_hashes(hashes: Mapping[str, str]) -> None:
    """``{clip_id: content_hash}`` as the active run's :data:`CLIP_HASHES_ARTIFACT`."""
    folder, filename = CLIP_HASHES_ARTIFACT.rsplit("/", 1)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / filename
        table = pd.DataFrame(sorted(hashes.items()), columns=["clip_id", "content_hash"])
        table.to_csv(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=folder)


def _log_table(table: pd.DataFrame, name: str, folder: str) -> None:
    """``table`` as ``<folder>/<name>.parquet`` and ``.csv`` artifacts of the active run."""
    with tempfile.TemporaryDirectory() as scratch:
        parquet, csv = Path(scratch) / f"{name}.parquet", Path(scratch) / f"{name}.csv"
        table.to_parquet(parquet, index=False)
        table.to_csv(csv, index=False)
        mlflow.log_artifact(str(parquet), artifact_path=folder)
        mlflow.log_artifact(str(csv), artifact_path=folder)


def dataset_context(outputs: set[str]) -> str:
    """How a run with these ``outputs`` uses its tables, as MLflow's dataset context:
    ``training`` when it trains models, ``inference`` when it scores new recordings,
    ``evaluation`` when it only scores the folds' predictions, ``preparation`` when it makes
    the tables."""
    if trains_models(outputs):
        return "training"
    if INFERENCE_PREDICTIONS in outputs:
        return "inference"
    return "evaluation" if LOSO_PREDICTIONS in outputs else "preparation"


def _data_selection(catalog: Any) -> dict[str, Any]:
    """What the catalog's raw dataset reads (name, root or roots, classes); {} without one."""
    if RAW_DATASET not in catalog:
        return {}
    selection = getattr(catalog[RAW_DATASET], "selection", None)
    return dict(selection()) if selection else {}


def _load_params(catalog: Any, name: str) -> dict[str, Any]:
    key = f"params:{name}"
    return dict(catalog.load(key) or {}) if key in catalog else {}


def _scalar_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table without list-valued columns, which mlflow's schema inference rejects."""
    listy = [c for c in table.columns if any(isinstance(v, (list, tuple)) for v in table[c])]
    return table.drop(columns=listy)
