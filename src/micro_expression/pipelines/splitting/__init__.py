"""The evaluation protocol's folds of the preprocessed clips."""

from micro_expression.pipelines.splitting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
