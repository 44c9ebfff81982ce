"""Readers of micro-expression datasets in their native layouts.

``read_source`` scans a dataset on disk and reports every clip its source describes, with
each frame file hashed and decoded; validation and labelling happen downstream. Clips of
the generated corpus also carry where their ground-truth file is.
Hand-written because no library (torchvision, kedro-datasets, Hugging Face) reads these
licence-gated layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from micro_expression.readers.casme2 import read_casme2
from micro_expression.readers.casme3 import read_casme3
from micro_expression.readers.composite import read_composite
from micro_expression.readers.fourdme import read_4dme
from micro_expression.readers.generated import read_generated
from micro_expression.readers.images import dangling_link_reason
from micro_expression.readers.labels import DATASETS, ClassScheme, scheme_for
from micro_expression.readers.mmew import read_mmew
from micro_expression.readers.records import FrameFile, RawDataset, SourceClip
from micro_expression.readers.samm import read_samm
from micro_expression.readers.smic import read_smic

__all__ = [
    "DATASETS",
    "ClassScheme",
    "FrameFile",
    "RawDataset",
    "SourceClip",
    "read_source",
    "scheme_for",
]

_SINGLE_READERS = {
    "synthetic": read_generated,
    "casme2": read_casme2,
    "samm": read_samm,
    "smic": read_smic,
    "casme3": read_casme3,
    "mmew": read_mmew,
    "4dme": read_4dme,
}


def _existing_dir(path: str | Path, what: str) -> Path:
    folder = Path(path).expanduser().absolute()
    if folder.is_symlink() and not folder.exists():
        raise FileNotFoundError(
            f"Dataset root not found: {what} = {folder}: {dangling_link_reason(folder)}")
    if not folder.is_dir():
        raise FileNotFoundError(f"Dataset root not found: {what} = {folder} is not a folder")
    return folder


def read_source(
    name: str, root: str | Path | None = None, roots: Mapping[str, str | None] | None = None
) -> RawDataset:
    """Scan dataset ``name`` at ``root`` (for ``composite``: at ``roots`` per dataset)."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset name {name!r}; valid names: {', '.join(DATASETS)}")
    if name == "composite":
        given = {k: v for k, v in (roots or {}).items() if v is not None}
        folders = {k: _existing_dir(v, f"dataset.roots.{k}") for k, v in given.items()}
        clips = read_composite(folders)
    else:
        if root is None:
            raise ValueError(f"dataset.root is not set for dataset {name!r}")
        folders = {name: _existing_dir(root, "dataset.root")}
        clips = _SINGLE_READERS[name](folders[name], name)
    return RawDataset(
        name=name, roots={k: str(v) for k, v in folders.items()}, clips=tuple(clips)
    )
