"""Lineage that travels with the data: a table made from tracked tables carries their digests
and the per-clip content hashes of its clip index in its own file.

A run that reads a derived table without the tables behind it (``kedro run --pipelines
training,evaluation`` after a preprocessing run) inherits the chain from the table itself,
so the chain holds for any pipeline combination, in a moved project and with another store.
The stamp lives in the table's ``attrs``, which pandas writes into the Parquet metadata and
reads back; it names the digest of the table it describes, so a stamp that pandas carried
over to other content is never believed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

STAMP_ATTR = "micro_expression.lineage"
"""The ``DataFrame.attrs`` key of a table's stamp."""
CLIP_INDEX = "clip_index"
CLIP_HASHES_ARTIFACT = "lineage/clip_hashes.csv"
"""Where a run keeps the per-clip content hashes of its clip index (clip_id, content_hash)."""
CONFLICT_TAG = "lineage.conflict"
"""Set when a run read or wrote a table other than the one its other inputs were made from."""


def inherited_tag(table: str) -> str:
    """The run tag saying where a ``<table>_digest`` the run did not read itself came from."""
    return f"lineage.{table}"


@dataclass(frozen=True)
class Descent:
    """What a table was made from: ``{table: digest}`` of the tracked tables behind it, the
    ``{clip_id: content_hash}`` of their clip index, and the run that wrote it."""

    ancestors: Mapping[str, str] = field(default_factory=dict)
    clip_hashes: Mapping[str, str] = field(default_factory=dict)
    run_id: str | None = None


def clip_hashes(clip_index: pd.DataFrame) -> dict[str, str]:
    """``{clip_id: content_hash}`` of a clip index."""
    return dict(zip(clip_index["clip_id"].astype(str), clip_index["content_hash"].astype(str),
                    strict=True))


def own_descent(name: str, table: pd.DataFrame) -> Descent:
    """The descent of a table that carries no stamp: a clip index holds its own clip hashes
    (it is read from the raw data, the root of the chain); other tables hold nothing."""
    return Descent(clip_hashes=clip_hashes(table) if name == CLIP_INDEX else {})


def made_from(parents: Mapping[str, tuple[str, Descent]], run_id: str | None) -> Descent:
    """The descent of a table a node made from ``parents`` (``{name: (digest, descent)}``):
    the parents and everything they descend from."""
    ancestors: dict[str, str] = {}
    hashes: Mapping[str, str] = {}
    for name, (digest, descent) in parents.items():
        ancestors.update(descent.ancestors)
        ancestors[name] = digest
        hashes = hashes or descent.clip_hashes
    return Descent(ancestors, hashes, run_id)


def stamp(table: pd.DataFrame, digest: str, descent: Descent) -> None:
    """Record in ``table.attrs`` (so in its Parquet file) that the table whose digest is
    ``digest`` descends from ``descent``."""
    table.attrs[STAMP_ATTR] = {
        "digest": digest, "ancestors": dict(descent.ancestors),
        "clip_hashes": dict(descent.clip_hashes), "run_id": descent.run_id,
    }


def take_stamp(table: pd.DataFrame) -> dict[str, Any] | None:
    """The stamp of ``table``, removed from its attrs: nodes get the table without it, and
    pandas cannot copy it onto the tables they derive."""
    found = table.attrs.pop(STAMP_ATTR, None)
    return found if isinstance(found, dict) else None


def stamped_descent(found: Mapping[str, Any] | None, digest: str) -> Descent | None:
    """The descent a stamp records, when it describes the table whose digest is ``digest``."""
    if not found or found.get("digest") != digest:
        return None
    return Descent(dict(found.get("ancestors") or {}), dict(found.get("clip_hashes") or {}),
                   found.get("run_id"))
