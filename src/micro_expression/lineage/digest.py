"""Content digests of tables, stable across machines and pandas versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import pandas as pd


def table_digest(table: pd.DataFrame, columns: Sequence[str], key: str) -> str:
    """sha256 over ``columns`` of every row, rows ordered by ``key``.

    Only content columns belong in ``columns`` (clip ids, content hashes, labels), never
    absolute paths, so the same data gives the same digest wherever it is stored. An empty
    table is digested by its columns: no rejections and no rejected clips differ.
    """
    missing = [c for c in [key, *columns] if c not in table.columns]
    if missing:
        raise KeyError(
            f"cannot digest table: columns {missing} missing (has {list(table.columns)})"
        )
    header = list(dict.fromkeys([key, *columns]))
    rows = table.sort_values(key, kind="stable")[header]
    sha = hashlib.sha256()
    if rows.empty:  # else every empty table shares sha256(""), whatever it would have held
        sha.update(json.dumps({"empty table of": header}).encode())
    for record in rows.itertuples(index=False):
        sha.update(json.dumps([_plain(v) for v in record], separators=(",", ":")).encode())
        sha.update(b"\n")
    return sha.hexdigest()


def _plain(value: object) -> object:
    """JSON-able form of a cell: missing values become None, numpy scalars Python ones."""
    if value is None or (not isinstance(value, (list, tuple, str)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
