"""Ingestion pipeline: read a dataset, validate it, write the clip index."""

from micro_expression.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
