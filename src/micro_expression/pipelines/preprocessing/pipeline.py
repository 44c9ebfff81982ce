"""Preprocessing pipeline definition."""

from kedro.pipeline import Node, Pipeline

from micro_expression.cluster import FANS_OUT_TAG
from micro_expression.pipelines.preprocessing.nodes import (
    describe_preprocessing,
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
                tags=[FANS_OUT_TAG],  # its clips spread over a Dask cluster when there is one
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
                describe_preprocessing,
                inputs=["preprocessed_index", "clip_index", "params:preprocessing"],
                outputs="preprocessing_manifest",
                name="describe_preprocessing",
            ),
        ]
    )
