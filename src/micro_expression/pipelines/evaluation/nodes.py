"""Nodes of the evaluation pipeline. Every score counts clips, never augmented samples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from micro_expression.evaluation.plots import confusion_figure, loss_curve_figure
from micro_expression.evaluation.predictions import (
    clip_scores,
    prediction_classes,
    prediction_confusion,
)

ALL_FOLDS = "all"


def concatenate_predictions(folds: pd.DataFrame, *fold_predictions: pd.DataFrame) -> pd.DataFrame:
    """The held-out predictions of every fold, one row per clip; refuses to score a set with
    a fold or a held-out clip missing, or with a clip that no fold holds out (stale files)."""
    predictions = pd.concat(fold_predictions, ignore_index=True)
    repeated = predictions["clip_id"][predictions["clip_id"].duplicated()]
    if not repeated.empty:
        raise ValueError(f"clips predicted by more than one fold: {repeated.tolist()[:5]}")
    held_out = folds[folds["role"] == "test"]
    missing_folds = sorted(set(held_out["fold"]) - set(predictions["fold"]))
    if missing_folds:
        raise ValueError(f"no predictions from folds {missing_folds}: the overall scores need "
                         "every fold (did its training or prediction fail?)")
    expected = set(zip(held_out["fold"], held_out["clip_id"]))
    predicted = set(zip(predictions["fold"], predictions["clip_id"]))
    if expected != predicted:
        missing, extra = sorted(expected - predicted), sorted(predicted - expected)
        raise ValueError(
            f"fold predictions do not match the folds table: missing (fold, clip) {missing[:5]}"
            f", not held out {extra[:5]} (predictions older than loso_folds? rerun training)"
        )
    return predictions


def confusion_matrices(predictions: pd.DataFrame) -> pd.DataFrame:
    """Long table (fold, label, predicted_label, count): each fold's matrix and their sum."""
    classes = prediction_classes(predictions)
    groups = [*predictions.groupby("fold"), (ALL_FOLDS, predictions)]
    return pd.DataFrame(
        [
            {"fold": fold, "label": classes[i], "predicted_label": classes[j], "count": int(count)}
            for fold, part in groups
            for (i, j), count in np.ndenumerate(prediction_confusion(part, classes))
        ]
    )


def score_predictions(predictions: pd.DataFrame) -> pd.DataFrame:
    """Accuracy, UF1, UAR, WF1 and mean flow / landmark errors, overall and per dataset."""
    rows = [{"scope": "overall", **clip_scores(predictions)}]
    rows += [{"scope": name, **clip_scores(part)} for name, part in predictions.groupby("dataset")]
    return pd.DataFrame(rows)


def score_subjects(predictions: pd.DataFrame) -> pd.DataFrame:
    """The same scores per held-out subject (one subject = one fold)."""
    return pd.DataFrame(
        [
            {"subject": subject, "dataset": part["dataset"].iloc[0], **clip_scores(part)}
            for subject, part in predictions.groupby("subject")
        ]
    )


def metrics_for_mlflow(scores_table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``<scope>.<metric>`` entries for ``MlflowMetricsHistoryDataset``; NaN scores are left out."""
    return {
        f"{row['scope']}.{name}": {"value": float(row[name]), "step": 0}
        for row in scores_table.to_dict("records")
        for name in scores_table.columns.drop("scope")
        if not math.isnan(float(row[name]))
    }


def plot_confusion_matrices(predictions: pd.DataFrame) -> Figure:
    """Summed confusion matrix over all folds, and one per dataset when there are several."""
    classes = prediction_classes(predictions)
    matrices = {"all datasets": prediction_confusion(predictions, classes)}
    if predictions["dataset"].nunique() > 1:
        for name, part in predictions.groupby("dataset"):
            matrices[name] = prediction_confusion(part, classes)
    return confusion_figure(matrices, classes)


def plot_loss_curves(*loss_histories: pd.DataFrame) -> dict[str, Figure]:
    """One loss-curve figure per fold, keyed by file name."""
    return {
        f"{history['fold'].iloc[0]}.png": loss_curve_figure(history, history["fold"].iloc[0])
        for history in loss_histories
    }
