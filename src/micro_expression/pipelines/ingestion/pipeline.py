"""Ingestion: a dataset in its native layout -> clip index + rejected clips, then the check."""

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.ingestion.nodes import build_clip_index, check_clip_index


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=build_clip_index,
                inputs=["raw_dataset", "params:ingestion"],
                outputs=["clip_index", "rejected_clips"],
                name="build_clip_index",
            ),
            # After both tables are saved, so a failed check leaves this run's reasons on disk.
            Node(
                func=check_clip_index,
                inputs=["clip_index", "rejected_clips", "params:ingestion"],
                outputs="ingestion_summary",
                name="check_clip_index",
            ),
        ]
    )
