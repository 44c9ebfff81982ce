"""``PairedParquetDataset``: two Parquet tables that are replaced together or not at all.

Ingestion writes the clip index and the rejected clips; a reader must never see one run's
index beside another run's rejections. Kedro saves a node's outputs one after the other, so
each table is first written beside its file as ``<name>.pending`` with the pair's id (from
the table's ``attrs``) in its Parquet metadata; the save that finds its partner pending with
the same id moves both into place. A run that fails between the two saves leaves the earlier
pair untouched. Loading checks that both files carry one id and names them when they do not.
Kedro's Parquet dataset cannot hold a file back until another is written, hence this class.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from kedro.io import AbstractDataset, DatasetError

PAIR_ID = "pair_id"
_METADATA_KEY = b"micro_expression.pair_id"


def pending_path(path: Path) -> Path:
    """Where a table waits for its partner: ``clip_index.parquet.pending``."""
    return path.with_name(path.name + ".pending")


def stored_pair_id(path: Path) -> str | None:
    """The pair id in a Parquet file's metadata (None for a file written without one)."""
    metadata = pq.read_schema(path).metadata or {}
    value = metadata.get(_METADATA_KEY)
    return value.decode() if value is not None else None


class PairedParquetDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """One table of a pair; ``partner`` is the other table's file, relative to this one's
    folder unless absolute (Kedro makes ``filepath`` absolute, not other keys).

    ``id_attr`` names the ``DataFrame.attrs`` entry holding the pair id that the producing
    node puts on both tables.
    """

    def __init__(
        self,
        *,
        filepath: str,
        partner: str,
        id_attr: str = PAIR_ID,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._partner = self._filepath.parent / partner
        self._id_attr = id_attr
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        if not self._filepath.is_file():
            raise DatasetError(f"{self._filepath} does not exist: run the ingestion pipeline")
        own = stored_pair_id(self._filepath)
        partner_exists = self._partner.is_file()
        partner = stored_pair_id(self._partner) if partner_exists else None
        if own != partner:
            partner_text = (partner or "unknown") if partner_exists else "file missing"
            raise DatasetError(
                f"{self._filepath} (ingestion {own or 'unknown'}) and {self._partner} "
                f"(ingestion {partner_text}) are not from the same ingestion run; rerun "
                "`kedro run --pipelines ingestion`"
            )
        table = pd.read_parquet(self._filepath)
        table.attrs[self._id_attr] = own
        return table

    def save(self, data: pd.DataFrame) -> None:
        pair_id = data.attrs.get(self._id_attr)
        if not pair_id:
            raise DatasetError(
                f"cannot save {self._filepath}: the table has no attrs[{self._id_attr!r}], the "
                f"id it shares with {self._partner.name} (the node must set it on both)"
            )
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(data, preserve_index=False)
        metadata = {**(table.schema.metadata or {}), _METADATA_KEY: str(pair_id).encode()}
        own_pending = pending_path(self._filepath)
        pq.write_table(table.replace_schema_metadata(metadata), own_pending)
        partner_pending = pending_path(self._partner)
        if partner_pending.is_file() and stored_pair_id(partner_pending) == str(pair_id):
            os.replace(partner_pending, self._partner)
            os.replace(own_pending, self._filepath)

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(PurePosixPath(self._filepath)),
            "partner": str(PurePosixPath(self._partner)),
        }
