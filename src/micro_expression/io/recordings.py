"""``RecordingSourceDataset``: what ``inference.source`` points at, as recordings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NoReturn

from kedro.io import AbstractDataset, DatasetError

from micro_expression.readers.recordings import Recordings, discover, prune_frames_cache

logger = logging.getLogger(__name__)


class RecordingSourceDataset(AbstractDataset[None, Recordings]):
    """Loads the recordings at ``path`` (a frame folder, a video file or a dataset root of
    layout ``dataset``, ``auto`` to detect it); videos are decoded into ``frames_cache``,
    which is pruned to ``frames_cache_max_mb`` (least recently used first, the videos of this
    load kept) after each load."""

    def __init__(
        self, *, path: str | None, frames_cache: str, dataset: str = "auto",
        frames_cache_max_mb: float = 2048, metadata: dict[str, Any] | None = None,
    ) -> None:
        if frames_cache_max_mb < 0:
            raise DatasetError(f"frames_cache_max_mb must be >= 0, got {frames_cache_max_mb}")
        self._path = path
        self._frames_cache = Path(frames_cache)
        self._dataset = dataset
        self._max_bytes = int(frames_cache_max_mb * 2**20)
        self.metadata = metadata

    def load(self) -> Recordings:
        found = discover(self._path, self._frames_cache, self._dataset)
        in_use = {Path(r.frame_paths[0]).parent.name for r in found.recordings}
        removed = prune_frames_cache(self._frames_cache, in_use, self._max_bytes)
        if removed:
            logger.info("removed %d decoded videos from %s (frames_cache_max_mb %g)",
                        len(removed), self._frames_cache, self._max_bytes / 2**20)
        return found

    def save(self, data: Recordings) -> NoReturn:
        raise DatasetError("RecordingSourceDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path, "dataset": self._dataset,
                "frames_cache": str(self._frames_cache), "max_bytes": self._max_bytes}
