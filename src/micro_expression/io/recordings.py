"""``RecordingSourceDataset``: what ``inference.source`` points at, as recordings."""

from __future__ import annotations

from typing import Any, NoReturn

from kedro.io import AbstractDataset, DatasetError

from micro_expression.readers.recordings import Recordings, discover


class RecordingSourceDataset(AbstractDataset[None, Recordings]):
    """Loads the recordings at ``path``: a frame folder, a video file (decoded only when it
    is scored, in memory) or a dataset root of layout ``dataset`` (``auto`` to detect it)."""

    def __init__(
        self, *, path: str | None, dataset: str = "auto", metadata: dict[str, Any] | None = None,
    ) -> None:
        self._path = path
        self._dataset = dataset
        self.metadata = metadata

    def load(self) -> Recordings:
        return discover(self._path, self._dataset)

    def save(self, data: Recordings) -> NoReturn:
        raise DatasetError("RecordingSourceDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path, "dataset": self._dataset}
