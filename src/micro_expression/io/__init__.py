"""Kedro datasets of this project."""

from micro_expression.io.mer_source import MERSourceDataset

__all__ = ["MERSourceDataset"]
