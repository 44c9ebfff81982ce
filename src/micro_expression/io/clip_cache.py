"""Catalog handle on the per-clip preprocessing cache (a folder of ``.npz`` files)."""

from __future__ import annotations

from typing import Any, NoReturn

from kedro.io import AbstractDataset, DatasetError

from micro_expression.preprocessing.cache import ClipCache


class ClipCacheDataset(AbstractDataset[ClipCache, ClipCache]):
    """Loads a :class:`ClipCache` on ``path``; nodes read and write clips through it.

    The folder is the dataset: nodes write each clip atomically as it is computed, so the
    handle itself is never saved.

    ```yaml
    preprocessed_clips:
      type: micro_expression.io.clip_cache.ClipCacheDataset
      path: data/03_primary/preprocessed
    ```
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = path
        self.metadata = metadata

    def load(self) -> ClipCache:
        return ClipCache(self._path)

    def save(self, data: ClipCache) -> NoReturn:
        raise DatasetError(
            f"{type(self).__name__} at {self._path} is read-only: write clips through "
            "ClipCache.write_atomic"
        )

    def _exists(self) -> bool:
        return ClipCache(self._path).folder.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path}
