"""Score new recordings (frame folders, videos, dataset roots) with a registered model."""

from micro_expression.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
