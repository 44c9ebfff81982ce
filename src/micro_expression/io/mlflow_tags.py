"""``MlflowTagsDataset``: a dict saved as tags of the active MLflow run."""

from __future__ import annotations

from typing import Any, NoReturn

from kedro.io import AbstractDataset, DatasetError


class MlflowTagsDataset(AbstractDataset[dict[str, Any], None]):
    """Saves ``{tag: value}`` on the run kedro-mlflow opened (nothing without one)."""

    def __init__(self, *, metadata: dict[str, Any] | None = None) -> None:
        self.metadata = metadata

    def save(self, data: dict[str, Any]) -> None:
        import mlflow

        if mlflow.active_run() is not None:
            mlflow.set_tags({k: "" if v is None else str(v) for k, v in data.items()})

    def load(self) -> NoReturn:
        raise DatasetError("MlflowTagsDataset is write-only: read tags with MlflowClient")

    def _describe(self) -> dict[str, Any]:
        return {}
