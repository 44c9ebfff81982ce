"""Nested parameter mappings as the flat dotted names MLflow records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(
    mapping: Mapping[str, Any], keep_empty: bool = True, prefix: str = ""
) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``. An empty mapping is kept as a value (as
    kedro-mlflow logs it) or, with ``keep_empty=False``, dropped (as a tag or parameter of ours)."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping) and (value or not keep_empty):
            flat.update(flatten(value, keep_empty, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
