"""Multi-task losses of MOL: MER cross-entropy, flow MSE, landmark error / inter-ocular distance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from micro_expression.face.points import IMAGE_LEFT_EYE, IMAGE_RIGHT_EYE
from micro_expression.model.mol import MOLOutput

MIN_INTER_OCULAR = 1.0
"""Floor (pixels) of the inter-ocular distance, so degenerate targets cannot blow the loss up."""


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms; a zero weight drops its term."""

    mer: float = 1.0
    flow: float = 10.0
    landmarks: float = 0.5


def inter_ocular_distance(landmarks: Tensor) -> Tensor:
    """Distance between the eye centroids (points 36-41 and 42-47): (..., 68, 2) -> (...)."""
    left = landmarks[..., IMAGE_LEFT_EYE, :].mean(dim=-2)
    right = landmarks[..., IMAGE_RIGHT_EYE, :].mean(dim=-2)
    return (left - right).norm(dim=-1)


def landmark_loss(predicted: Tensor, target: Tensor) -> Tensor:
    """Mean absolute coordinate error per frame over that frame's inter-ocular distance.

    Shapes: predicted, target (B, T, 68, 2) in pixels -> scalar (mean over B and T).
    """
    error = (predicted - target).abs().mean(dim=(-2, -1))
    return (error / inter_ocular_distance(target).clamp_min(MIN_INTER_OCULAR)).mean()


def _target(targets: Mapping[str, Tensor], name: str, predicted: Tensor) -> Tensor:
    """``targets[name]``, checked to exist and to have the shape of its prediction."""
    if name not in targets:
        raise KeyError(f"mol_loss needs targets[{name!r}] of shape {tuple(predicted.shape)}")
    target = targets[name]
    if target.shape != predicted.shape:
        raise ValueError(
            f"targets[{name!r}] has shape {tuple(target.shape)}, the prediction "
            f"{tuple(predicted.shape)}"
        )
    return target


def mol_loss(
    output: MOLOutput,
    targets: Mapping[str, Tensor],
    weights: LossWeights | Mapping[str, float] | None = None,
) -> dict[str, Tensor]:
    """Loss terms and their weighted sum ``"total"``.

    Targets: ``"labels"`` (B,) int64 class indices; ``"flow"`` (B, 7, 2, 128, 128) flow in pixels
    (channel 0 = x), needed when the flow head is on; ``"landmarks"`` (B, 7, 68, 2) (x, y) pixels
    of frames 1..7, needed when the landmark head is on. Terms: ``"mer"`` cross-entropy,
    ``"flow"`` squared error averaged over pairs, channels and pixels, ``"landmarks"``
    :func:`landmark_loss`; a term is absent when its head is off or its weight is 0.
    """
    if not isinstance(weights, LossWeights):
        weights = LossWeights(**(weights or {}))
    terms: dict[str, Tensor] = {}
    if weights.mer:
        terms["mer"] = F.cross_entropy(
            output.logits, _target(targets, "labels", output.logits[:, 0])
        )
    if weights.flow and output.flow is not None:
        terms["flow"] = F.mse_loss(output.flow, _target(targets, "flow", output.flow))
    if weights.landmarks and output.landmarks is not None:
        terms["landmarks"] = landmark_loss(
            output.landmarks, _target(targets, "landmarks", output.landmarks)
        )
    if not terms:
        raise ValueError(f"no loss term left: every weight is 0 or its head is off ({weights})")
    terms["total"] = sum(getattr(weights, name) * value for name, value in terms.items())
    return terms
