"""The per-clip preprocessing cache: what one entry holds (:class:`ClipArrays`), the folder of
``.npz`` files named by content key, written atomically, and its catalog dataset.
Hand-written because no Kedro dataset writes one file per item as it is computed and reads
single arrays back without loading the rest.

A write goes to a temporary file in the same folder, is flushed to disk, then renamed over
the final name with ``os.replace``, so a killed run leaves either the whole file or none
(plus, at worst, a stray ``.tmp`` file that nothing reads).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from kedro.io import AbstractDataset, DatasetError

_KEY = re.compile(r"^[0-9A-Za-z_-]+$")


@dataclass(frozen=True)
class ClipArrays:
    """The stored result for one clip; S samples of L frames, crops of C x C pixels."""

    frames: np.ndarray  # (S, L, C, C) uint8 aligned grayscale crops
    flows: np.ndarray  # (S, L-1, C, C, 2) float16 TV-L1 flow, (x, y) crop pixels; (S, 0, ...)
    # when only what a model reads was computed (PreprocessingConfig.outputs)
    landmarks: np.ndarray  # (S, L, 68, 2) float32, (x, y) crop pixels
    frame_numbers: np.ndarray  # (S, L) int64 original frame numbers
    transform: np.ndarray  # (S, L, 2, 3) float64 image -> crop similarity per frame
    apex_flow: np.ndarray  # (S, C, C, 2) float16 TV-L1 flow, sample's first frame -> apex;
    # (S, 0, 0, 2) with outputs "frames"
    apex_frame_numbers: np.ndarray  # (S,) int64 original number of the apex frame used (-1:
    # none, with outputs "frames" and no sheet apex)
    apex_from_sheet: np.ndarray  # (S,) bool: apex from the coding sheet, else from the flows
    landmarks_outside: np.ndarray  # (S, L) uint8 predicted points outside the frame
    stabilisation_fallback: np.ndarray  # (S, L) bool: ECC failed, landmark fit used

    @property
    def n_samples(self) -> int:
        return int(self.frames.shape[0])

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, stored: dict[str, np.ndarray]) -> ClipArrays:
        missing = [name for name in cls.__dataclass_fields__ if name not in stored]
        if missing:
            raise ValueError(f"a stored clip lacks arrays {missing} (written by an older "
                             "preprocessing?): rerun `kedro run --pipelines preprocessing`")
        return cls(**{name: stored[name] for name in cls.__dataclass_fields__})


class CorruptCacheEntryError(ValueError):
    """A cache file exists but cannot be read."""


class ClipCache:
    """Per-clip arrays stored as ``<folder>/<key>.npz``."""

    suffix = ".npz"

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"ClipCache({str(self.folder)!r})"

    def path_for(self, key: str) -> Path:
        """Where the entry for ``key`` lives (whether or not it exists)."""
        if not _KEY.match(key):
            raise ValueError(f"invalid cache key {key!r}: use letters, digits, '_' or '-'")
        return self.folder / f"{key}{self.suffix}"

    def contains(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def write_atomic(self, key: str, arrays: Mapping[str, np.ndarray | str]) -> Path:
        """Store ``arrays`` (strings become 0-d text arrays) under ``key``; returns the path."""
        final = self.path_for(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(
            dir=self.folder, prefix=f".{key}.", suffix=".tmp", delete=False
        )
        try:
            with handle:
                np.savez_compressed(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
                # Temporary files are created 0600; an entry gets the mode the umask gives
                # any new file, so workers running as another user can read a shared cache.
                os.fchmod(handle.fileno(), 0o666 & ~_umask())
            os.replace(handle.name, final)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        return final

    def read(self, key: str, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """The stored arrays of ``key`` (only ``names`` when given: the others stay on disk)."""
        path = self.path_for(key)
        if not path.is_file():
            raise FileNotFoundError(f"no cached clip for key {key} at {path}")
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in (stored.files if names is None else names)}
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
            raise CorruptCacheEntryError(f"cannot read cached clip {path}: {error}") from error
        except KeyError as error:
            raise CorruptCacheEntryError(f"cached clip {path} lacks {error}") from error


def _umask() -> int:
    """The process's umask: from /proc on Linux, else by setting it and straight back (which
    other threads could see for an instant)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines()
                        if line.startswith("Umask:")), 8)
    except (OSError, StopIteration):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


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
