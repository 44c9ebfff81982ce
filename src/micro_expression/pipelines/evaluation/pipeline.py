"""Evaluation pipeline: every fold's held-out predictions -> scores, tables and figures."""

import warnings

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.evaluation.nodes import (
    concatenate_predictions,
    confusion_matrices,
    metrics_for_mlflow,
    plot_confusion_matrices,
    plot_loss_curves,
    score_predictions,
    score_subjects,
)
from micro_expression.training.folds import FINAL_FOLD, registered_folds


def create_pipeline(**kwargs) -> Pipeline:
    folds = registered_folds()
    with warnings.catch_warnings():
        # Kedro warns of dotted dataset names; these are the fold namespaces' own outputs.
        warnings.filterwarnings("ignore", "One or more dataset names contain", UserWarning)
        return _evaluation_pipeline(folds)


def _evaluation_pipeline(folds: list[str]) -> Pipeline:
    return Pipeline(
        [
            Node(
                concatenate_predictions,
                inputs=["loso_folds", *(f"{f}.fold_predictions" for f in folds)],
                outputs="loso_predictions",
                name="concatenate_predictions",
            ),
            Node(confusion_matrices, "loso_predictions", "confusion_matrices",
                 name="confusion_matrices"),
            Node(score_predictions, "loso_predictions", "loso_scores", name="score_predictions"),
            Node(score_subjects, "loso_predictions", "subject_scores", name="score_subjects"),
            Node(metrics_for_mlflow, "loso_scores", "loso_metrics", name="metrics_for_mlflow"),
            Node(plot_confusion_matrices, "loso_predictions", "confusion_matrix_plot",
                 name="plot_confusion_matrices"),
            Node(
                plot_loss_curves,
                inputs=[f"{f}.fold_loss_history" for f in [*folds, FINAL_FOLD]],
                outputs="loss_curve_plots",
                name="plot_loss_curves",
            ),
        ]
    )
