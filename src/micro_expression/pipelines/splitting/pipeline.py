"""Splitting pipeline: preprocessed clip index -> the folds of ``splitting.protocol``."""

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.splitting.nodes import make_folds


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                make_folds,
                inputs=["preprocessed_index", "params:splitting"],
                # The table keeps its first protocol's name: its file, lineage and MLflow
                # artifact are known by it.
                outputs="loso_folds",
                name="make_folds",
            )
        ]
    )
