"""Run many clips: reuse cached ones, compute the rest in worker processes, or on the Dask
cluster when the node runs under :class:`~micro_expression.runner.DaskRunner`.

Each worker writes its own clip file, so a killed run loses at most the clips in flight;
rerunning picks up from the files already written.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import cv2
from tqdm.auto import tqdm

from micro_expression.cluster import current_scheduler
from micro_expression.face.models import frontal_face_detector, landmark_predictor
from micro_expression.io.clip_cache import ClipCache, CorruptCacheEntryError
from micro_expression.preprocessing.clip import ClipRejected, Stopwatch, preprocess_clip
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.quality import clip_quality

logger = logging.getLogger(__name__)

COMPUTED, CACHED, REJECTED = "computed", "cached", "rejected"


@dataclass(frozen=True)
class ClipTask:
    """One clip to preprocess; ``meta`` is written into the stored file as JSON; ``apex`` is
    the coding sheet's apex frame number, if it has one; ``ground_truth`` the clip's
    ground-truth file, if its corpus has one (quality is measured against it)."""

    clip_id: str
    frame_paths: tuple[str, ...]
    key: str
    meta: Mapping[str, Any]
    apex: int | None = None
    ground_truth: str | None = None


@dataclass
class ClipOutcome:
    """What happened to one clip. ``rejected`` clips have a ``stage`` and a ``reason``;
    ``from_cache`` tells whether this run reused a stored result (file or rejection)."""

    clip_id: str
    key: str
    status: str
    from_cache: bool
    n_samples: int = 0
    stage: str | None = None
    reason: str | None = None
    quality: dict[str, float] | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def process_clip(task: ClipTask, cache: ClipCache, config: PreprocessingConfig) -> ClipOutcome:
    """Compute one clip, measure it against ground truth when there is some, store it."""
    stopwatch = Stopwatch()
    try:
        arrays = preprocess_clip(task.frame_paths, config, stopwatch, apex=task.apex)
    except ClipRejected as rejected:
        if rejected.cacheable:
            meta = {**task.meta, "rejection": {"stage": rejected.stage, "reason": rejected.reason}}
            with stopwatch("write"):
                cache.write_atomic(task.key, {"meta": json.dumps(meta)})
        return ClipOutcome(
            task.clip_id, task.key, REJECTED, False,
            stage=rejected.stage, reason=rejected.reason, seconds=dict(stopwatch.seconds),
        )
    with stopwatch("quality"):
        quality = clip_quality(task.ground_truth, arrays)
    meta = {**task.meta, "n_samples": arrays.n_samples, "quality": quality, "rejection": None}
    with stopwatch("write"):
        cache.write_atomic(task.key, {**arrays.as_dict(), "meta": json.dumps(meta)})
    return ClipOutcome(
        task.clip_id, task.key, COMPUTED, False,
        n_samples=arrays.n_samples, quality=quality, seconds=dict(stopwatch.seconds),
    )


def cached_outcome(task: ClipTask, cache: ClipCache) -> ClipOutcome:
    """The outcome stored for ``task`` by an earlier run (reads only the file's ``meta``)."""
    meta = json.loads(str(cache.read(task.key, ["meta"])["meta"]))
    rejection = meta.get("rejection")
    if rejection:
        return ClipOutcome(task.clip_id, task.key, REJECTED, True, **rejection)
    return ClipOutcome(
        task.clip_id, task.key, CACHED, True,
        n_samples=int(meta["n_samples"]), quality=meta.get("quality"),
    )


def run_clips(
    tasks: Sequence[ClipTask],
    cache: ClipCache,
    config: PreprocessingConfig,
    progress: bool = True,
) -> list[ClipOutcome]:
    """Outcomes in task order. Cached clips are read back; the others run on
    ``config.n_workers`` processes (in this process when that is 1)."""
    outcomes: dict[int, ClipOutcome] = {}
    todo: list[int] = []
    for position, task in enumerate(tasks):
        if cache.contains(task.key):
            try:
                outcomes[position] = cached_outcome(task, cache)
                continue
            except CorruptCacheEntryError as error:
                logger.warning("recomputing %s: %s", task.clip_id, error)
        todo.append(position)
    logger.info("preprocessing: %d clips cached, %d to compute", len(outcomes), len(todo))

    bar = tqdm(total=len(todo), desc="preprocessing clips", unit="clip", disable=not progress)
    workers = min(config.n_workers, len(todo))
    scheduler = current_scheduler()
    if scheduler is not None and todo:
        outcomes.update(_run_on_cluster(scheduler, tasks, todo, cache, config, bar))
    elif workers <= 1:
        for position in todo:
            outcomes[position] = process_clip(tasks[position], cache, config)
            bar.update()
    else:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=init_worker_process)
        try:
            futures: dict[Future, int] = {
                pool.submit(process_clip, tasks[p], cache, config): p for p in todo
            }
            for future in as_completed(futures):
                outcomes[futures[future]] = future.result()
                bar.update()
        finally:
            # On an error or Ctrl-C, drop the queued clips instead of finishing them.
            pool.shutdown(wait=True, cancel_futures=True)
    bar.close()
    return [outcomes[position] for position in range(len(tasks))]


def _run_on_cluster(
    scheduler: str, tasks: Sequence[ClipTask], todo: list[int], cache: ClipCache,
    config: PreprocessingConfig, bar: tqdm,
) -> dict[int, ClipOutcome]:
    """``todo`` clips as tasks on the Dask cluster at ``scheduler``; outcomes by position."""
    from distributed import Client, as_completed

    done: dict[int, ClipOutcome] = {}
    with Client(scheduler) as client:
        futures = {
            client.submit(_process_clip_on_worker, tasks[p], cache, config, pure=False,
                          key=f"preprocess-{tasks[p].clip_id}-{tasks[p].key[:12]}"): p
            for p in todo
        }
        try:
            for future in as_completed(list(futures)):
                done[futures[future]] = future.result()
                bar.update()
        finally:
            client.cancel(list(futures))
    return done


def _process_clip_on_worker(
    task: ClipTask, cache: ClipCache, config: PreprocessingConfig
) -> ClipOutcome:
    """:func:`process_clip` with one OpenCV thread (the parallelism is across clips)."""
    cv2.setNumThreads(1)
    return process_clip(task, cache, config)


def init_worker_process() -> None:
    """One thread per worker process (the parallelism is across clips); dlib models loaded
    up front so that per-stage timings measure the work."""
    cv2.setNumThreads(1)
    frontal_face_detector()
    landmark_predictor()
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
