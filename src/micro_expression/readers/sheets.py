"""Coding sheets (.xlsx): locate them, find the header row by content, read the rows."""

from __future__ import annotations

import logging
import math
import numbers
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

# SAMM has a 13-row preamble; no known sheet puts its header lower than this.
HEADER_SEARCH_ROWS = 50


@dataclass(frozen=True)
class SheetRow:
    """One data row: its spreadsheet row number (1-based, as Excel shows it) and its cells
    keyed by the canonical column name."""

    number: int
    cells: dict[str, Any]


def _normalise(header: Any) -> str:
    """Header text compared without case, spaces or underscores (``OnsetFrame`` matches
    ``Onset Frame``)."""
    return re.sub(r"[\s_]+", "", str(header)).lower()


def find_sheet(folders: list[Path], preferred: str, pattern: str) -> Path:
    """The coding sheet in the first of ``folders`` holding ``preferred`` or else a file
    matching ``pattern`` (the last by name when several do)."""
    for folder in folders:
        if (folder / preferred).is_file():
            return folder / preferred
        versions = sorted(p for p in folder.glob(pattern) if not p.name.startswith("~$"))
        if versions:
            if len(versions) > 1:
                logger.warning(
                    "Several coding sheets in %s: %s; using %s",
                    folder,
                    [p.name for p in versions],
                    versions[-1].name,
                )
            return versions[-1]
    looked_in = ", ".join(str(f) for f in folders)
    raise FileNotFoundError(
        f"Coding sheet not found: looked for {preferred!r} or {pattern!r} in {looked_in}"
    )


def read_sheet(path: Path, columns: list[str]) -> list[SheetRow]:
    """Rows below the header row that names ``columns[0]`` and ``columns[1]``, on the first
    worksheet that has such a row (a sheet saved with a cover page still reads); all of
    ``columns`` must be present. Blank rows are skipped."""
    try:
        workbook = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except Exception as exc:  # openpyxl/zipfile raise many types for a damaged file
        raise ValueError(f"Cannot read coding sheet {path}: {type(exc).__name__}: {exc}") from exc
    key_columns = {_normalise(c) for c in columns[:2]}
    for position, (worksheet, table) in enumerate(workbook.items()):
        header_index = next(
            (
                i
                for i in range(min(HEADER_SEARCH_ROWS, len(table)))
                if key_columns <= {_normalise(v) for v in table.iloc[i] if not _is_blank(v)}
            ),
            None,
        )
        if header_index is not None:
            if position:
                logger.info("%s: coding table found on worksheet %r", path, worksheet)
            return _rows(path, worksheet, table, header_index, columns)
    raise ValueError(
        f"Header row not found in {path}: no row among the first {HEADER_SEARCH_ROWS} of any "
        f"worksheet ({', '.join(repr(w) for w in workbook)}) holds the columns {columns[:2]}"
    )


def _rows(
    path: Path, worksheet: str, table: pd.DataFrame, header_index: int, columns: list[str]
) -> list[SheetRow]:
    header = [None if _is_blank(v) else str(v).strip() for v in table.iloc[header_index]]
    position = {_normalise(h): i for i, h in reversed(list(enumerate(header))) if h}
    missing = [c for c in columns if _normalise(c) not in position]
    if missing:
        raise ValueError(
            f"Expected columns missing in {path} (worksheet {worksheet!r}, header on row "
            f"{header_index + 1}): missing {missing}; expected {columns}; "
            f"found {[h for h in header if h]}"
        )
    rows = []
    for i in range(header_index + 1, len(table)):
        cells = {c: table.iat[i, position[_normalise(c)]] for c in columns}
        if not all(_is_blank(v) for v in cells.values()):
            rows.append(SheetRow(number=i + 1, cells=cells))
    return rows


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip()
    )


def frame_number(value: Any) -> int | None:
    """A cell as a frame number, or None when it is not one (``/``, blank, negative, 12.5)."""
    if isinstance(value, bool) or _is_blank(value):
        return None
    if isinstance(value, numbers.Number):
        number = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.0*)?\s*", value):
        number = float(value)
    else:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def text(value: Any) -> str:
    """A cell as stripped text ('' when blank); integral floats lose their ``.0``."""
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
