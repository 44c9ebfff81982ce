"""Training pipeline: one namespace per leave-one-subject-out fold, plus ``final``.

``kedro run --namespaces=fold_synthetic_sub01`` trains and tests that fold alone (its inputs,
``loso_folds`` and the preprocessed clips, must exist); kedro-airflow turns each namespace into
one task. The folds come from :func:`~micro_expression.training.folds.registered_subjects`.
"""

from collections.abc import Callable
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from micro_expression.pipelines.training.nodes import train_and_test_fold, train_fold
from micro_expression.training.folds import (
    FINAL_FOLD,
    LOSS_HISTORY,
    MODEL,
    PREDICTIONS,
    TRAIN_NODE,
    TRAIN_TEST_NODE,
    registered_folds,
)

SHARED_INPUTS = {
    "loso_folds", "preprocessed_index", "preprocessed_clips", "preprocessing_manifest"
}


def _for_fold(function: Callable, fold: str) -> Callable:
    """``function`` with ``fold`` bound, keeping its name and type hints for Kedro's checks."""
    return update_wrapper(partial(function, fold=fold), function)


def fold_pipeline(fold: str) -> Pipeline:
    """Train and test one fold (``final``: train only) under namespace ``fold``.

    One node, not a training node and a scoring node: the sequential runner runs nodes layer
    by layer, so every fold would train before any was scored, and each fold's run would last
    until the end of all the training.
    """
    inputs = ["loso_folds", "preprocessed_index", "preprocessed_clips",
              "preprocessing_manifest", "params:training"]
    if fold == FINAL_FOLD:
        node = Node(_for_fold(train_fold, fold), inputs, [MODEL, LOSS_HISTORY], name=TRAIN_NODE)
    else:
        node = Node(_for_fold(train_and_test_fold, fold), inputs,
                    [MODEL, LOSS_HISTORY, PREDICTIONS], name=TRAIN_TEST_NODE)
    return Pipeline([node], namespace=fold, inputs=SHARED_INPUTS, parameters={"params:training"})


def create_pipeline(**kwargs) -> Pipeline:
    return sum((fold_pipeline(f) for f in [*registered_folds(), FINAL_FOLD]), Pipeline([]))
