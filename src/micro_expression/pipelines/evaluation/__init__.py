"""Scores of the leave-one-subject-out predictions, per dataset and overall, and figures."""

from micro_expression.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
