"""The predictions table (one row per clip: label, predicted label, class probabilities,
flow and landmark errors) and the clip-level scores read from it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from micro_expression.evaluation.metrics import confusion_matrix, scores

ERROR_COLUMNS = ["flow_epe", "landmark_nme"]
PREDICTION_COLUMNS = [
    "clip_id", "subject", "dataset", "label", "predicted_label", "n_samples", *ERROR_COLUMNS,
]


def probability_column(name: str) -> str:
    """Column of the predictions table holding the probability of class ``name``."""
    return f"prob_{name}"


def prediction_classes(predictions: pd.DataFrame) -> list[str]:
    """The class list of a predictions table, in the order of its probability columns."""
    prefix = probability_column("")
    classes = [c.removeprefix(prefix) for c in predictions.columns if c.startswith(prefix)]
    if not classes:
        raise ValueError(
            f"predictions have no '{prefix}<class>' columns: {list(predictions.columns)}"
        )
    return classes


def prediction_confusion(predictions: pd.DataFrame, classes: Sequence[str]) -> np.ndarray:
    """Confusion matrix of a predictions table (one count per clip), in ``classes`` order."""
    ids = {c: i for i, c in enumerate(classes)}
    return confusion_matrix(
        predictions["label"].map(ids), predictions["predicted_label"].map(ids), len(classes)
    )


def clip_scores(predictions: pd.DataFrame) -> dict[str, float]:
    """Clip count, accuracy, UF1, UAR, WF1 and mean flow EPE / landmark NME of predictions."""
    return {
        "n_clips": len(predictions),
        **scores(prediction_confusion(predictions, prediction_classes(predictions))),
        **predictions[ERROR_COLUMNS].mean().to_dict(),
    }


