"""Preprocessing pipeline definition."""

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.preprocessing.nodes import (
    digest_preprocessed_index,
    preprocess_clips,
    render_qa_figures,
    summarise_quality,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                preprocess_clips,
                inputs=[
                    "clip_index", "ingestion_summary", "preprocessed_clips", "params:preprocessing"
                ],
                outputs=["preprocessed_index", "preprocessing_rejections", "preprocessing_quality"],
                name="preprocess_clips",
            ),
            Node(
                summarise_quality,
                inputs="preprocessing_quality",
                outputs="preprocessing_metrics",
                name="summarise_preprocessing_quality",
            ),
            Node(
                render_qa_figures,
                inputs=[
                    "clip_index",
                    "preprocessed_index",
                    "preprocessed_clips",
                    "params:preprocessing.qa_clips",
                ],
                outputs="preprocessing_qa_figures",
                name="render_preprocessing_qa_figures",
            ),
            Node(
                digest_preprocessed_index,
                inputs="preprocessed_index",
                outputs="preprocessed_keys_digest",
                name="digest_preprocessed_index",
            ),
        ]
    )
