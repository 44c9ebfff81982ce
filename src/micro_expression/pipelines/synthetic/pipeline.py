"""Synthetic: ``params:synthetic`` -> the generated corpus, saved to ``raw_dataset``."""

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.synthetic.nodes import plan_corpus


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=plan_corpus,
                inputs="params:synthetic",
                outputs="raw_dataset",
                name="generate_synthetic_corpus",
            )
        ]
    )
