"""Preprocessing pipeline: aligned crops, TV-L1 flow and landmark labels per clip, cached."""

from micro_expression.pipelines.preprocessing.pipeline import create_pipeline

__all__ = ["create_pipeline"]
