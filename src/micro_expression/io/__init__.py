"""Kedro datasets of this project."""

from micro_expression.io.mer_source import MERSourceDataset
from micro_expression.io.table_pair import PairedParquetDataset

__all__ = ["MERSourceDataset", "PairedParquetDataset"]
