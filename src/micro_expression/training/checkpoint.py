"""``TorchCheckpointDataset``: a fold's trained weights as a ``torch.save`` file in the catalog."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any

import fsspec
import torch
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)


class TorchCheckpointDataset(AbstractVersionedDataset[dict, dict]):
    """A checkpoint dict (tensors, strings, numbers, lists, dicts) on any fsspec filesystem.

    Loads with ``weights_only=True``, so a file can hold data but never code, and maps the
    tensors to the CPU.
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        fs_args = dict(fs_args or {})
        if protocol == "file":
            fs_args.setdefault("auto_mkdir", True)
        self._fs = fsspec.filesystem(protocol, **fs_args)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}

    def load(self) -> dict:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(path, "rb") as file:
            return torch.load(io.BytesIO(file.read()), map_location="cpu", weights_only=True)

    def save(self, data: dict) -> None:
        buffer = io.BytesIO()
        torch.save(data, buffer)
        path = get_filepath_str(self._get_save_path(), self._protocol)
        with self._fs.open(path, "wb") as file:
            file.write(buffer.getvalue())
        self._fs.invalidate_cache(path)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)
