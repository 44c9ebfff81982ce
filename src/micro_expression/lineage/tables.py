"""The tables whose content digests a run records, and how each is digested."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from micro_expression.lineage.digest import table_digest


@dataclass(frozen=True)
class TrackedTable:
    """A table whose content digest, counts and MLflow dataset input every run records."""

    key: str
    content_columns: tuple[str, ...]
    counted_by: str | None = None

    def digest(self, table: pd.DataFrame) -> str:
        """sha256 of the content columns the table has (never paths), rows by ``key``."""
        columns = tuple(c for c in self.content_columns if c in table.columns)
        return table_digest(table, columns, key=self.key)


TRACKED_TABLES = {
    "clip_index": TrackedTable(
        key="clip_id",
        content_columns=(
            "dataset", "subject", "content_hash", "n_frames", "onset", "apex", "offset",
            "emotion", "label", "label_id", "frame_width", "frame_height",
        ),
        counted_by="label",
    ),
    "preprocessed_index": TrackedTable(
        key="clip_id", content_columns=("content_key", "n_samples", "label_id"), counted_by="label"
    ),
    "rejected_clips": TrackedTable(key="clip_id", content_columns=("source", "reason", "kind")),
    "preprocessing_rejections": TrackedTable(key="clip_id", content_columns=("stage", "reason")),
}
