"""Figures of the evaluation: confusion matrices and loss curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def confusion_figure(matrices: Mapping[str, np.ndarray], classes: Sequence[str]) -> Figure:
    """One panel per matrix: cells coloured by row-normalised recall and labelled with counts."""
    figure = Figure(figsize=(4.2 * len(matrices), 4.0), layout="constrained")
    axes = figure.subplots(1, len(matrices), squeeze=False)[0]
    for ax, (title, matrix) in zip(axes, matrices.items()):
        rows = matrix.sum(axis=1, keepdims=True)
        recall = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
        ax.imshow(recall, vmin=0, vmax=1, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, str(count), ha="center", va="center",
                    color="white" if recall[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(classes)), classes)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{title} ({int(matrix.sum())} clips)")
    return figure


def loss_curve_figure(history: pd.DataFrame, title: str) -> Figure:
    """Training (and validation, where present) loss terms against the step, log scale."""
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = figure.subplots()
    for column in [c for c in history.columns if c.startswith(("train_", "validation_"))]:
        points = history[["step", column]].dropna()
        style = "o-" if column.startswith("validation_") else "-"
        ax.plot(points["step"], points[column], style, label=column, markersize=3)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return figure
