"""Synthetic: plan the generated micro-expression corpus (written by the ``raw_dataset`` entry)."""

from micro_expression.pipelines.synthetic.pipeline import create_pipeline

__all__ = ["create_pipeline"]
