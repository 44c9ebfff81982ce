"""Training pipeline: one namespace per leave-one-subject-out fold, plus ``final``.

``kedro run --namespaces=fold_synthetic_sub01`` trains and tests that fold alone (its inputs,
``loso_folds`` and the preprocessed clips, must exist); kedro-airflow turns each namespace into
one task. The folds come from :func:`~micro_expression.training.folds.registered_subjects`.
"""

from collections.abc import Callable
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.training.nodes import predict_held_out, train_fold
from micro_expression.training.folds import (
    FINAL_FOLD,
    LOSS_HISTORY,
    MODEL,
    PREDICT_NODE,
    PREDICTIONS,
    TRAIN_NODE,
    registered_folds,
)

SHARED_INPUTS = {
    "loso_folds", "preprocessed_index", "preprocessed_clips", "preprocessing_manifest"
}


def _for_fold(function: Callable, fold: str) -> Callable:
    """``function`` with ``fold`` bound, keeping its name and type hints for Kedro's checks."""
    return update_wrapper(partial(function, fold=fold), function)


def fold_pipeline(fold: str) -> Pipeline:
    """Train (and, except for ``final``, test) one fold under namespace ``fold``."""
    nodes = [
        Node(
            _for_fold(train_fold, fold),
            inputs=["loso_folds", "preprocessed_index", "preprocessed_clips",
                    "preprocessing_manifest", "params:training"],
            outputs=[MODEL, LOSS_HISTORY],
            name=TRAIN_NODE,
        )
    ]
    if fold != FINAL_FOLD:
        nodes.append(
            Node(
                _for_fold(predict_held_out, fold),
                inputs=[MODEL, "loso_folds", "preprocessed_index", "preprocessed_clips",
                        "params:training"],
                outputs=PREDICTIONS,
                name=PREDICT_NODE,
            )
        )
    return Pipeline(nodes, namespace=fold, inputs=SHARED_INPUTS, parameters={"params:training"})


def create_pipeline(**kwargs) -> Pipeline:
    return sum((fold_pipeline(f) for f in [*registered_folds(), FINAL_FOLD]), Pipeline([]))
