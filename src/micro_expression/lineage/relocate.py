"""Keep the project's MLflow store readable after the project folder moves.

MLflow records every artifact location as an absolute path, so a copied or moved project
shows runs without artifacts. :func:`relocate_store` rewrites the locations under an earlier
``<project>/mlruns`` to the current one, where the same experiment folders now live.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)

LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
)
"""Where MLflow's sqlite store keeps artifact paths."""


def store_path(tracking_uri: str, project_path: Path) -> Path | None:
    """The sqlite file of a ``sqlite:///`` tracking URI (relative to the project), else None."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = Path(tracking_uri.removeprefix("sqlite:///"))
    return path if path.is_absolute() else project_path / path


def earlier_roots(database: Path, artifact_root: Path) -> list[str]:
    """``.../mlruns`` prefixes of the store's experiments that are not ``artifact_root`` but
    whose experiment folders exist under it (the project was moved or copied)."""
    with sqlite3.connect(database) as connection:
        locations = [row[0] for row in connection.execute(
            "SELECT artifact_location FROM experiments WHERE artifact_location IS NOT NULL"
        )]
    roots = set()
    for location in locations:
        plain = location.removeprefix("file://")
        root, separator, experiment = plain.rpartition("/mlruns/")
        if separator and (artifact_root / experiment).is_dir():
            old = f"{root}/mlruns"
            if Path(old) != artifact_root:
                roots.add(location[: len(location) - len(plain)] + old)
    return sorted(roots)


def relocate_store(database: Path, artifact_root: Path) -> int:
    """Point every artifact location under an earlier root at ``artifact_root``; returns the
    number of rows changed (0 when the store already points here)."""
    if not database.is_file():
        return 0
    changed = 0
    new = artifact_root.as_posix()
    for old in earlier_roots(database, artifact_root):
        with sqlite3.connect(database) as connection:
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )}
            for table, column in LOCATION_COLUMNS:
                if table not in tables:
                    continue
                cursor = connection.execute(
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?) "  # noqa: S608
                    f"WHERE {column} LIKE ? ESCAPE '\\'",
                    (new, len(old) + 1, _like_prefix(old)),
                )
                changed += cursor.rowcount
        logger.info("MLflow store %s: artifact locations moved from %s to %s", database, old,
                    new)
    return changed


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "/%"
