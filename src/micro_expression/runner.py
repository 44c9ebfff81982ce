"""Kedro runner on ``dask.distributed``: ``kedro run --runner micro_expression.runner.DaskRunner``.

Kedro's Dask deployment pattern: each node is one Dask task that depends on the tasks of the
nodes feeding it, so independent nodes (the LOSO folds) run side by side on the workers, and
data that would live in memory is published on the scheduler. The cluster is a
``LocalCluster`` on this machine unless ``conf/<env>/dask.yml`` or ``DASK_SCHEDULER_ADDRESS``
names a scheduler.

Node and dataset hooks run on the worker, with copies of the driver's hooks, inside the
driver's MLflow run (same tracking URI, parent run attached by id), so the MLflow record is the
one the sequential runner writes. Workers need the project's package, and the data and the
artifact store at the same paths (a shared filesystem) or a tracking server.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields
from itertools import chain
from typing import Any

import cloudpickle
import mlflow
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import AbstractDataset, DatasetError, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import AbstractRunner
from kedro.runner.task import Task
from pluggy import PluginManager

from micro_expression.cluster import FANS_OUT_TAG, run_on_cluster, scheduler_client
from micro_expression.tracking import running_fold_runs

logger = logging.getLogger(__name__)

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
NANNY_ENVIRON = "distributed.nanny.pre-spawn-environ"
_configured: dict[str, Any] = {}
"""The session's ``dask`` configuration, set by :class:`DaskSettingsHooks`."""


@dataclass(frozen=True)
class ClusterSettings:
    """Where nodes run: an existing scheduler, or a ``LocalCluster`` of this shape."""

    scheduler_address: str | None = None
    n_workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "auto"
    dashboard_address: str | None = None
    retries: int = 0
    connect_timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], environ: Mapping[str, str]) -> ClusterSettings:
        """Settings from ``dask.yml`` (keys as the fields), ``DASK_SCHEDULER_ADDRESS`` first."""
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"dask.yml: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        settings = cls(**config)
        if environ.get(SCHEDULER_ENV):
            settings = cls(**{**config, "scheduler_address": environ[SCHEDULER_ENV]})
        if settings.n_workers < 1 or settings.threads_per_worker < 1 or settings.retries < 0:
            raise ValueError(f"dask.yml: n_workers and threads_per_worker must be >= 1 and "
                             f"retries >= 0, got {config}")
        if settings.connect_timeout <= 0:
            raise ValueError(f"dask.yml: connect_timeout must be > 0 seconds, "
                             f"got {settings.connect_timeout}")
        return settings


class DaskSettingsHooks:
    """Hands the session's ``dask`` configuration (``--env`` applied) to the runner."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        _configured.clear()
        try:
            _configured.update(context.config_loader["dask"] or {})
        except KeyError:  # a project without dask.yml: the defaults
            pass


class DaskDataset(AbstractDataset):
    """A dataset published on the Dask scheduler: what a ``MemoryDataset`` is for one process."""

    def __init__(self, name: str):
        self._name = name

    def load(self) -> Any:
        try:
            return scheduler_client().get_dataset(self._name)
        except KeyError as error:
            raise DatasetError(f"{self._name} was never saved on the Dask scheduler") from error

    def save(self, data: Any) -> None:
        scheduler_client().publish_dataset(data, name=self._name, override=True)

    def _exists(self) -> bool:
        return self._name in scheduler_client().list_datasets()

    def _release(self) -> None:
        scheduler_client().unpublish_dataset(self._name)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}


@dataclass(frozen=True)
class TrackingContext:
    """The driver's MLflow run, for nodes that run elsewhere."""

    tracking_uri: str
    registry_uri: str
    parent_run_id: str | None

    @classmethod
    def of_driver(cls) -> TrackingContext:
        run = mlflow.active_run()
        return cls(mlflow.get_tracking_uri(), mlflow.get_registry_uri(),
                   run.info.run_id if run else None)


class DaskRunner(AbstractRunner):
    """Runs every node as a Dask task (see module docstring)."""

    def __init__(self, is_async: bool = False, settings: ClusterSettings | None = None):
        super().__init__(is_async=is_async)
        self._settings = settings

    def _get_executor(self, max_workers: int) -> None:
        return None  # the cluster is the executor; see _run

    def _run(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        from distributed import as_completed

        settings = self._settings or ClusterSettings.from_config(_configured, os.environ)
        publish_memory_outputs(pipeline, catalog)
        hooks = worker_hooks(hook_manager)
        tracking = TrackingContext.of_driver()
        with cluster_client(settings) as client:
            logger.info("Dask: %d workers at %s%s", len(client.scheduler_info()["workers"]),
                        client.scheduler.address,
                        f", dashboard {client.dashboard_link}" if settings.dashboard_address
                        else "")
            futures: dict[Node, Any] = {}
            for node in pipeline.nodes:  # topologically sorted: upstream futures exist
                upstream = [futures[n] for n in pipeline.node_dependencies[node]]
                futures[node] = client.submit(
                    run_node_on_worker, node, catalog, hooks, tracking, self._is_async, run_id,
                    *upstream, key=f"{node.name}-{run_id or os.getpid()}", pure=False,
                    retries=settings.retries,
                )
            nodes_by_key = {future.key: node for node, future in futures.items()}
            load_counts = Counter(chain.from_iterable(n.inputs for n in pipeline.nodes))
            done = 0
            for future in as_completed(list(futures.values())):
                node = nodes_by_key[future.key]
                try:
                    future.result()
                except BaseException as error:
                    stop_after_running(client, list(futures.values()))
                    close_abandoned_runs(tracking)
                    raise NodeFailedError(describe_failure(node, error)) from error
                done += 1
                self._logger.info("Completed node: %s", node.name)
                self._logger.info("Completed %d out of %d tasks", done, len(pipeline.nodes))
                self._release_datasets(node, catalog, load_counts, pipeline)


def stop_after_running(client: Any, futures: list[Any]) -> None:
    """Cancel the tasks that have not started and wait for those running on a worker.

    A running task cannot be interrupted, and it would keep logging to the parent run (and
    reopen it) after the driver marks it FAILED; waiting lets its fold run close first.
    """
    from distributed import wait

    on_workers = {key for keys in client.processing().values() for key in keys}
    running = [f for f in futures if f.key in on_workers and not f.done()]
    client.cancel([f for f in futures if f not in running and not f.done()])
    if running:
        logger.warning("a node failed: waiting for %d running tasks before failing the run",
                       len(running))
        wait(running)


def close_abandoned_runs(tracking: TrackingContext) -> None:
    """Mark FAILED the nested runs still open under the driver's run: their worker died."""
    if tracking.parent_run_id is None:
        return
    client = mlflow.MlflowClient(tracking.tracking_uri, tracking.registry_uri)
    for run_id in running_fold_runs(client, tracking.parent_run_id):
        client.set_terminated(run_id, "FAILED")


class NodeFailedError(RuntimeError):
    """A node failed on the cluster (its fold, if it belongs to one, is named)."""


def describe_failure(node: Node, error: BaseException) -> str:
    """What failed, where: the node, its fold, and whether the worker died under it."""
    fold = f" (fold {node.namespace})" if node.namespace else ""
    cause = ("its worker died (the task was retried as configured and lost each time)"
             if type(error).__name__ == "KilledWorker" else f"{type(error).__name__}: {error}")
    return f"node {node.name}{fold} failed on the Dask cluster: {cause}"


@contextmanager
def cluster_client(settings: ClusterSettings) -> Iterator[Any]:
    """A client of the configured scheduler, or of a LocalCluster started (and stopped) here."""
    import dask
    from distributed import Client, LocalCluster

    if settings.scheduler_address:
        try:
            client = Client(settings.scheduler_address, timeout=settings.connect_timeout)
        except (OSError, TimeoutError) as error:
            raise ConnectionError(
                f"no Dask scheduler answered at {settings.scheduler_address} within "
                f"{settings.connect_timeout:g} s (dask.yml connect_timeout): is it running and "
                f"reachable from here? ({type(error).__name__}: {error})") from None
        with client:
            yield client
        return
    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which halves torch's speed here
    # (memory handed back to the system after every step); glibc's default is kept instead.
    with dask.config.set({NANNY_ENVIRON + ".MALLOC_TRIM_THRESHOLD_": None}), LocalCluster(
        n_workers=settings.n_workers, threads_per_worker=settings.threads_per_worker,
        processes=True, memory_limit=settings.memory_limit,
        dashboard_address=settings.dashboard_address,
    ) as cluster, Client(cluster) as client:
        yield client


def publish_memory_outputs(pipeline: Pipeline, catalog: Any) -> None:
    """Node outputs that would stay in one process's memory go to the scheduler instead."""
    for name in pipeline.all_outputs():
        if isinstance(catalog.get(name, fallback_to_runtime_pattern=True), MemoryDataset):
            catalog[name] = DaskDataset(name)


def worker_hooks(hook_manager: PluginManager | None) -> list[tuple[str, Any]]:
    """The driver's hooks (name, object) in registration order, those that can travel."""
    if hook_manager is None:
        return []
    travelling = []
    for name, plugin in hook_manager.list_name_plugin():
        try:
            cloudpickle.dumps(plugin)
        except Exception as error:  # a hook that holds a lock or a connection stays home
            logger.warning("hook %s does not run on Dask workers: %s", name, error)
            continue
        travelling.append((name, plugin))
    return travelling


def run_node_on_worker(
    node: Node,
    catalog: Any,
    hooks: list[tuple[str, Any]],
    tracking: TrackingContext,
    is_async: bool,
    run_id: str | None,
    *upstream: Any,
) -> str:
    """Run ``node`` with its hooks inside the driver's MLflow run; returns the node's name.

    The node runs in a thread of its own: MLflow's active run is per thread, so the parent run
    attached there goes away with the thread instead of being ended (which would close it).
    """
    from distributed import get_worker, rejoin, secede

    hook_manager = _create_hook_manager()
    for name, plugin in hooks:
        hook_manager.register(plugin, name=name)
    scheduler = get_worker().scheduler.address
    fans_out = FANS_OUT_TAG in node.tags
    with ThreadPoolExecutor(1, thread_name_prefix=f"kedro-{node.name}") as pool:
        running = pool.submit(
            run_on_cluster, scheduler, _run_attached, node, catalog, hook_manager, tracking,
            is_async, run_id,
        )
        if fans_out:
            secede()
        try:
            running.result()
        finally:
            if fans_out:
                rejoin()
    return node.name


def _run_attached(
    node: Node, catalog: Any, hook_manager: PluginManager, tracking: TrackingContext,
    is_async: bool, run_id: str | None,
) -> None:
    mlflow.set_tracking_uri(tracking.tracking_uri)
    mlflow.set_registry_uri(tracking.registry_uri)
    if tracking.parent_run_id is not None:
        status = mlflow.MlflowClient().get_run(tracking.parent_run_id).info.status
        if status != "RUNNING":  # attaching would reopen a run the driver has closed
            raise RuntimeError(f"not running {node.name}: its MLflow run "
                               f"{tracking.parent_run_id} has ended ({status})")
        mlflow.start_run(run_id=tracking.parent_run_id)
    logger.debug("running %s on %s", node.name, threading.current_thread().name)
    Task(node=node, catalog=catalog, is_async=is_async, hook_manager=hook_manager,
         run_id=run_id).execute()

