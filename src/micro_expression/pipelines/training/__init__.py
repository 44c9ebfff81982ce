"""One namespaced training pipeline per held-out subject, plus the final model."""

from micro_expression.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
