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
REDUCTIONS = ("mean", "reference")
"""How the flow and landmark terms are reduced: the plain mean, or as the public MOL code
(CYF-cuber/MOL ``train.py`` at 0a75455) does (see :func:`flow_loss`, :func:`landmark_loss`)."""


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms; a zero weight drops its term."""

    mer: float = 1.0
    flow: float = 10.0
    landmarks: float = 0.5


@dataclass(frozen=True)
class LossReduction:
    """How the flow and landmark terms are reduced over a batch, each one of :data:`REDUCTIONS`."""

    flow: str = "mean"
    landmarks: str = "mean"

    def __post_init__(self) -> None:
        for name in ("flow", "landmarks"):
            if getattr(self, name) not in REDUCTIONS:
                raise ValueError(
                    f"loss reduction of {name} must be one of {list(REDUCTIONS)}, got "
                    f"{getattr(self, name)!r}"
                )


def inter_ocular_distance(landmarks: Tensor) -> Tensor:
    """Distance between the eye centroids (points 36-41 and 42-47): (..., 68, 2) -> (...)."""
    left = landmarks[..., IMAGE_LEFT_EYE, :].mean(dim=-2)
    right = landmarks[..., IMAGE_RIGHT_EYE, :].mean(dim=-2)
    return (left - right).norm(dim=-1)


def flow_loss(predicted: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared flow error averaged over pairs, channels and pixels.

    ``reduction="reference"`` divides that mean by the number of pairs T once more, as the
    public code does (``train.py:42``): the term is T = 7 times lighter.

    Shapes: predicted, target (B, T, 2, S, S) in pixels -> scalar.
    """
    error = F.mse_loss(predicted, target)
    return error / predicted.shape[1] if reduction == "reference" else error


def landmark_loss(predicted: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Absolute coordinate error of each frame over its inter-ocular distance, reduced.

    ``reduction="mean"``: the mean over B, T and the 2L coordinates. ``"reference"``: the public
    code's (``train.py:43-53``): the sum over T and the 2L coordinates, the mean over B, then
    divided by L = 68 (not 2L), so 2T = 14 times the mean.

    Shapes: predicted, target (B, T, L, 2) in pixels -> scalar.
    """
    per_frame = (predicted - target).abs().sum(dim=(-2, -1))
    per_frame = per_frame / inter_ocular_distance(target).clamp_min(MIN_INTER_OCULAR)
    batch, _, n_landmarks, _ = predicted.shape
    if reduction == "reference":
        return per_frame.sum() / (batch * n_landmarks)
    return per_frame.mean() / (2 * n_landmarks)


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
    reduction: LossReduction | Mapping[str, str] | None = None,
) -> dict[str, Tensor]:
    """Loss terms and their weighted sum ``"total"``.

    Targets: ``"labels"`` (B,) int64 class indices; ``"flow"`` (B, 7, 2, 128, 128) flow in pixels
    (channel 0 = x), needed when the flow head is on; ``"landmarks"`` (B, 7, 68, 2) (x, y) pixels
    of frames 1..7, needed when the landmark head is on. Terms: ``"mer"`` cross-entropy,
    ``"flow"`` :func:`flow_loss`, ``"landmarks"`` :func:`landmark_loss`, each reduced as
    ``reduction`` says; a term is absent when its head is off or its weight is 0.
    """
    if not isinstance(weights, LossWeights):
        weights = LossWeights(**(weights or {}))
    if not isinstance(reduction, LossReduction):
        reduction = LossReduction(**(reduction or {}))
    terms: dict[str, Tensor] = {}
    if weights.mer:
        terms["mer"] = F.cross_entropy(
            output.logits, _target(targets, "labels", output.logits[:, 0])
        )
    if weights.flow and output.flow is not None:
        terms["flow"] = flow_loss(
            output.flow, _target(targets, "flow", output.flow), reduction.flow
        )
    if weights.landmarks and output.landmarks is not None:
        terms["landmarks"] = landmark_loss(
            output.landmarks, _target(targets, "landmarks", output.landmarks), reduction.landmarks
        )
    if not terms:
        raise ValueError(f"no loss term left: every weight is 0 or its head is off ({weights})")
    terms["total"] = sum(getattr(weights, name) * value for name, value in terms.items())
    return terms
