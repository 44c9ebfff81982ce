"""Inference pipeline: ``kedro run --pipelines inference --params inference.source=PATH``."""

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.inference.nodes import (
    inference_tags,
    plan_clips,
    plot_timelines,
    preprocess_for_model,
    score_clips,
    score_videos,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                plan_clips,
                inputs=["inference_source", "inference_model", "params:inference"],
                outputs=["inference_clips", "inference_read_problems"],
                name="plan_inference_clips",
            ),
            Node(
                preprocess_for_model,
                inputs=["inference_clips", "inference_model", "preprocessed_clips",
                        "params:inference"],
                outputs=["inference_stored_clips", "inference_preprocessing_problems"],
                name="preprocess_for_model",
            ),
            Node(
                score_videos,
                inputs=["inference_source", "inference_model", "params:inference"],
                outputs="inference_video_windows",
                name="score_videos",
            ),
            Node(
                score_clips,
                inputs=["inference_clips", "inference_stored_clips", "inference_read_problems",
                        "inference_preprocessing_problems", "inference_video_windows",
                        "inference_model", "preprocessed_clips"],
                outputs="inference_predictions",
                name="score_clips",
            ),
            Node(
                plot_timelines,
                inputs="inference_predictions",
                outputs="inference_timelines",
                name="plot_inference_timelines",
            ),
            Node(
                inference_tags,
                inputs=["inference_predictions", "inference_clips", "inference_video_windows",
                        "inference_model", "params:inference"],
                outputs="inference_tags",
                name="tag_inference_run",
            ),
        ]
    )
