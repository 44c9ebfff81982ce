"""Splitting pipeline: preprocessed clip index -> leave-one-subject-out folds."""

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.splitting.nodes import make_loso_folds


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                make_loso_folds,
                inputs=["preprocessed_index", "params:splitting"],
                outputs="loso_folds",
                name="make_loso_folds",
            )
        ]
    )
