"""Recognition scores from confusion matrices, and flow / landmark errors.

Per-class averages (UF1, UAR) run over the classes present in the ground truth: a class with
no true clip in the scored set has no recall, and its F1 says nothing about the data. This is
scikit-learn's ``f1_score`` / ``recall_score`` with ``labels=np.unique(y_true)``,
``average="macro"``; WF1 is ``f1_score(average="weighted")``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from micro_expression.face.alignment import inter_ocular_distance
from micro_expression.flow.error import end_point_error_map


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts, rows the true class, columns the predicted one."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.shape[0]} true labels but {y_pred.shape[0]} predictions")
    ids = np.concatenate([y_true, y_pred])
    outside = sorted(set(ids[(ids < 0) | (ids >= n_classes)].tolist()))
    if outside:
        raise ValueError(f"class ids {outside} outside [0, {n_classes})")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def scores(matrix: np.ndarray) -> dict[str, float]:
    """Accuracy, UF1, UAR and weighted F1 of a confusion matrix (NaN when it is empty)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    support = matrix.sum(axis=1)
    total = support.sum()
    if total == 0:
        return {"accuracy": np.nan, "uf1": np.nan, "uar": np.nan, "wf1": np.nan}
    true_positive = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    present = support > 0
    recall = true_positive[present] / support[present]
    f1 = 2 * true_positive[present] / (support[present] + predicted[present])
    return {
        "accuracy": float(true_positive.sum() / total),
        "uf1": float(f1.mean()),
        "uar": float(recall.mean()),
        "wf1": float((f1 * support[present]).sum() / total),
    }


def flow_epe(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """End-point error per sample, in pixels: mean over pairs and pixels.

    Shapes: (B, T-1, 2, H, W) both (the model's layout, channel 0 = x) -> (B,).
    """
    errors = end_point_error_map(np.moveaxis(predicted, 2, -1), np.moveaxis(target, 2, -1))
    return errors.mean(axis=(1, 2, 3))


def landmark_nme(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Mean point distance over the target's inter-ocular distance, per sample.

    Shapes: (B, T-1, 68, 2) both -> (B,), averaged over frames and points.
    """
    distances = np.linalg.norm(np.asarray(predicted, np.float64) - target, axis=-1)
    return (distances.mean(axis=-1) / inter_ocular_distance(target)).mean(axis=1)
