"""Per-clip predictions of a trained model: class probabilities, flow and landmark errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from micro_expression.evaluation.metrics import confusion_matrix, flow_epe, landmark_nme, scores
from micro_expression.training.data import ClipSamples
from micro_expression.training.device import autocast

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


@torch.no_grad()
def predict_samples(
    model: torch.nn.Module,
    samples: ClipSamples,
    device: torch.device,
    batch_size: int,
    inputs: str = "frames",
) -> dict[str, np.ndarray]:
    """Per sample: ``clip`` row, class ``probabilities``, ``flow_epe`` and ``landmark_nme``.

    ``inputs`` is the sample field the model reads. Errors of a head the model does not have
    are NaN.
    """
    model.eval()
    rows, probabilities, epe, nme = [], [], [], []
    for batch in DataLoader(samples, batch_size=batch_size):
        with autocast(device):
            output = model(batch[inputs].to(device))
        n = batch["clip"].shape[0]
        rows.append(batch["clip"].numpy())
        probabilities.append(torch.softmax(output.logits.float(), dim=1).cpu().numpy())
        epe.append(
            flow_epe(output.flow.float().cpu().numpy(), batch["flow"].numpy())
            if output.flow is not None else np.full(n, np.nan)
        )
        nme.append(
            landmark_nme(output.landmarks.float().cpu().numpy(), batch["landmarks"].numpy())
            if output.landmarks is not None else np.full(n, np.nan)
        )
    parts = {"clip": rows, "probabilities": probabilities, "flow_epe": epe, "landmark_nme": nme}
    return {k: np.concatenate(v) if v else np.empty(0) for k, v in parts.items()}


def aggregate_clips(
    clips: pd.DataFrame, samples: dict[str, np.ndarray], classes: Sequence[str]
) -> pd.DataFrame:
    """One row per clip: sample probabilities and errors averaged, then the most likely class.

    ``clips`` is the table the samples were drawn from (sample ``clip == i`` is of row ``i``).
    """
    columns = [probability_column(c) for c in classes]
    per_sample = pd.DataFrame(samples["probabilities"].reshape(-1, len(classes)), columns=columns)
    per_sample = per_sample.assign(
        clip=samples["clip"], flow_epe=samples["flow_epe"], landmark_nme=samples["landmark_nme"]
    )
    grouped = per_sample.groupby("clip")
    means = grouped.mean().assign(n_samples=grouped.size())
    best = means[columns].to_numpy().argmax(axis=1)
    means["predicted_label"] = np.array(classes, dtype=object)[best]
    table = clips.reset_index(drop=True)[["clip_id", "subject", "dataset", "label"]]
    table = table.join(means, how="inner")
    return table[PREDICTION_COLUMNS + columns].reset_index(drop=True)
