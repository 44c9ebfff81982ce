"""Prediction of a trained model on clips: per-sample outputs, then one row per clip in the
predictions table of :mod:`micro_expression.evaluation.predictions`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from micro_expression.evaluation.metrics import flow_epe, landmark_nme
from micro_expression.evaluation.predictions import PREDICTION_COLUMNS, probability_column
from micro_expression.training.data import ClipSamples
from micro_expression.training.device import autocast


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
