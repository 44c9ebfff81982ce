"""``MERSourceDataset``: a micro-expression dataset on disk, in its native layout."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from kedro.io import AbstractDataset

from micro_expression.readers import RawDataset, read_source, scheme_for

logger = logging.getLogger(__name__)


class WritableCorpus(Protocol):
    """What the synthetic pipeline hands over: a corpus that writes itself in its layouts."""

    def write(self, root: Path) -> Any: ...


class MERSourceDataset(AbstractDataset[WritableCorpus, RawDataset]):
    """Loads every clip of dataset ``name`` found at ``root`` (``roots`` per dataset for the
    composite) as a ``RawDataset`` to be labelled with ``classes`` classes. This entry is the
    one place a run's data is chosen (``dataset`` in globals.yml, or ``--params dataset.*``).

    Saving is only for the generated corpus: with ``name="synthetic"`` it writes the corpus
    to ``root``; for a real dataset it writes nothing, so its folder is never touched.
    A relative root is taken from the working directory (the project root under Kedro).
    """

    def __init__(
        self,
        name: str,
        root: str | None = None,
        roots: Mapping[str, str | None] | None = None,
        classes: int = 3,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._name = name
        self._root = root
        self._roots = dict(roots or {})
        self._classes = classes
        self.metadata = metadata

    def load(self) -> RawDataset:
        # Fails on an unknown name or class count before the (slow) frame scan.
        scheme_for(self._name, self._classes)
        raw = read_source(self._name, self._root, self._roots)
        return dataclasses.replace(raw, classes=self._classes)

    def selection(self) -> dict[str, Any]:
        """Which data this entry reads (name, root or roots, classes), for the run's record."""
        return self._describe()

    def save(self, data: WritableCorpus) -> None:
        if self._name != "synthetic":
            logger.info(
                "The generated corpus is not needed for dataset.name=%s; nothing written "
                "(the dataset at %s is left untouched)",
                self._name,
                self._root if self._name != "composite" else self._roots,
            )
            return
        if self._root is None:
            raise ValueError("dataset.root is not set: nowhere to write the generated corpus")
        data.write(Path(self._root).expanduser().absolute())

    def _exists(self) -> bool:
        folders = self._roots.values() if self._name == "composite" else [self._root]
        return all(f is not None and Path(f).expanduser().is_dir() for f in folders)

    def _describe(self) -> dict[str, Any]:
        if self._name == "composite":
            return {"name": self._name, "roots": self._roots, "classes": self._classes}
        return {"name": self._name, "root": self._root, "classes": self._classes}
