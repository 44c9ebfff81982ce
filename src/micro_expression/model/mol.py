"""MOL: joint micro-expression recognition, optical flow and landmarks from 8 frames."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from micro_expression.model.conv_stack import ConvStack
from micro_expression.model.f5c import F5C
from micro_expression.model.flow_net import FlowNet
from micro_expression.model.landmark_head import LandmarkHead
from micro_expression.model.mer_head import MERHead
from micro_expression.model.presets import MOLWidths, get_preset

N_LANDMARKS = 68


class MOLOutput(NamedTuple):
    """What :class:`MOL` predicts for a batch of B clips of T frames (T = 8)."""

    logits: Tensor
    """(B, n_classes) micro-expression class logits."""
    flow: Tensor | None
    """(B, T-1, 2, S, S) flow from frame t to t+1 in pixels, channel 0 = x; None without head."""
    landmarks: Tensor | None
    """(B, T-1, 68, 2) (x, y) pixels of frames 1..T-1; None without the landmark head."""


class MOL(nn.Module):
    """Shared conv stack and F5C block per frame, then MER, flow and landmark heads.

    Each frame is encoded once (weights are shared across frames, so a frame's features are the
    same in both pairs it belongs to). The MER head sees the 2(T-1) maps of the T-1 consecutive
    pairs ``[f0, f1, f1, f2, ..., f(T-2), f(T-1)]``. Heads switched off are not built.

    Shapes: frames (B, T, S, S) float, normalised per clip -> :class:`MOLOutput`.
    """

    def __init__(
        self,
        widths: MOLWidths,
        n_classes: int = 3,
        graph: str = "channel",
        k: int = 4,
        with_flow: bool = True,
        with_landmarks: bool = True,
    ) -> None:
        super().__init__()
        self.widths = widths
        c, s = widths.channels, widths.feature_size
        self.conv_stack = ConvStack(widths.stack)
        self.f5c = F5C(c, s, k=k, graph=graph)
        self.mer_head = MERHead(
            c, s, 2 * (widths.n_frames - 1), widths.mer_conv, widths.mer_hidden, n_classes
        )
        self.flow_net = (
            FlowNet(
                c,
                widths.flow_encoder,
                widths.flow_redirect,
                widths.flow_fuse,
                widths.flow_down,
                widths.flow_decoder,
                widths.patch_size,
                widths.dilation,
            )
            if with_flow
            else None
        )
        self.landmark_head = (
            LandmarkHead(
                c, s, widths.landmark_conv, widths.landmark_hidden, widths.image_size, N_LANDMARKS
            )
            if with_landmarks
            else None
        )

    def forward(self, frames: Tensor) -> MOLOutput:
        expected = (self.widths.n_frames, self.widths.image_size, self.widths.image_size)
        if frames.ndim != 4 or tuple(frames.shape[1:]) != expected:
            raise ValueError(
                f"MOL expects frames of shape (B, {', '.join(map(str, expected))}), "
                f"got {tuple(frames.shape)}"
            )
        b, t, h, w = frames.shape
        features = self.f5c(self.conv_stack(frames.reshape(b * t, 1, h, w)))
        features = features.reshape(b, t, *features.shape[1:])
        pairs = torch.stack([features[:, :-1], features[:, 1:]], dim=2).flatten(1, 2)
        logits = self.mer_head(pairs)
        flow = self.flow_net(frames, features) if self.flow_net is not None else None
        landmarks = None
        if self.landmark_head is not None:
            landmarks = self.landmark_head(features[:, 1:].flatten(0, 1))
            landmarks = landmarks.reshape(b, t - 1, N_LANDMARKS, 2)
        return MOLOutput(logits, flow, landmarks)

    def to_channels_last(self) -> MOL:
        """Store the 2-D conv weights channels-last (NHWC), the faster layout for oneDNN on CPU
        and for tensor cores; ``.to(memory_format=...)`` fails on the MER head's 5-D weights."""
        for part in (self.conv_stack, self.f5c, self.flow_net, self.landmark_head):
            if part is not None:
                part.to(memory_format=torch.channels_last)
        return self


def build_mol(
    preset: str = "small",
    n_classes: int = 3,
    graph: str = "channel",
    k: int = 4,
    with_flow: bool = True,
    with_landmarks: bool = True,
) -> MOL:
    """MOL with the widths of ``preset`` (see :data:`~micro_expression.model.presets.PRESETS`)."""
    return MOL(get_preset(preset), n_classes, graph, k, with_flow, with_landmarks)


def parameter_counts(model: MOL) -> dict[str, int]:
    """Trainable parameters per part of ``model`` and in total (absent heads count 0)."""
    parts = {
        "conv_stack": model.conv_stack,
        "f5c": model.f5c,
        "mer_head": model.mer_head,
        "flow_net": model.flow_net,
        "landmark_head": model.landmark_head,
    }
    counts = {name: _count(part) if part is not None else 0 for name, part in parts.items()}
    counts["total"] = _count(model)
    return counts


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
