"""Kedro datasets of this project.

Imported on first use (PEP 562), so a catalog that names one dataset does not import the
libraries of the others (torch and mlflow for the model, dlib for the readers).
"""

from importlib import import_module
from typing import Any

_MODULES = {
    "MERSourceDataset": "mer_source",
    "MlflowTagsDataset": "mlflow_tags",
    "PackagedModelDataset": "packaged_model",
    "PairedParquetDataset": "table_pair",
    "RecordingSourceDataset": "recordings",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULES[name]}"), name)
