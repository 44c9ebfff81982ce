"""MOL: joint micro-expression recognition, optical flow and landmarks from 8 frames."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from micro_expression.model.conv_stack import ConvStack, ReferenceConvStack
from micro_expression.model.f5c import PairF5C
from micro_expression.model.flow_net import FlowNet
from micro_expression.model.initialisation import (
    check_init,
    init_fcc_as_reference_,
    init_flow_net_as_reference_,
)
from micro_expression.model.inputs import FrameEncoding
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


VARIANTS = ("standard", "reference")


class MOL(nn.Module):
    """Frame encoding, shared conv stack and F5C per frame of each pair, then the three heads.

    ``variant="standard"``: conv-BN-ReLU stack, one F5C for every frame, the MER head's 3D conv
    followed by batch norm and ReLU. ``variant="reference"``: the modules of the public MOL
    code (CYF-cuber/MOL at 0a75455): its linear conv stack (kernels 4, 3, 2, 1), separate F5C
    weights for the first and second frame of a pair, no norm or activation in the MER head; its
    CCC update is ``graph="reference"``. ``graph`` None takes the variant's own (``channel``,
    the paper's, for ``standard``). ``representation`` and ``normalisation`` choose how the grey
    levels reach the network (:class:`~micro_expression.model.inputs.FrameEncoding`).

    Four more choices, each ``standard`` by default or the public code's: ``init`` the initial
    weights (:mod:`~micro_expression.model.initialisation`); ``flow_layers`` the flow network's
    encoder kernels and prediction biases (:data:`~micro_expression.model.flow_net.LAYERS`);
    ``batch_norm`` whether FCC and the flow network see all pairs at once or one pair at a time
    (:data:`~micro_expression.model.layers.BATCH_NORMS`; the conv stack and the MER head, whose
    batch norms the public code lacks, always see the whole batch); ``landmark_output``
    normalised or raw pixel coordinates
    (:class:`~micro_expression.model.landmark_head.LandmarkHead`).

    The MER head sees the 2(T-1) maps ``[f0, f1, f1', f2, ...]`` of the T-1 consecutive pairs;
    the landmark head each pair's second frame; heads switched off are not built.

    Shapes: frames (B, T, S, S) grey levels (0-255) -> :class:`MOLOutput`.
    """

    def __init__(
        self,
        widths: MOLWidths,
        n_classes: int = 3,
        graph: str | None = None,
        k: int = 4,
        with_flow: bool = True,
        with_landmarks: bool = True,
        variant: str = "standard",
        representation: str = "frames_and_change",
        normalisation: str = "frame",
        init: str = "standard",
        flow_layers: str = "standard",
        batch_norm: str = "batched",
        landmark_output: str = "normalised",
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"MOL variant must be one of {VARIANTS}, got {variant!r}")
        check_init(init)
        self.widths = widths
        self.variant = variant
        reference = variant == "reference"
        c, s = widths.channels, widths.feature_size
        self.encoding = FrameEncoding(representation, normalisation)
        if reference:
            self.conv_stack: nn.Module = ReferenceConvStack(
                widths.reference_stack, self.encoding.channels
            )
        else:
            self.conv_stack = ConvStack(widths.stack, self.encoding.channels)
        self.f5c = PairF5C(
            c,
            s,
            k=k,
            graph=graph or ("reference" if reference else "channel"),
            weights="separate" if reference else "shared",
            batch_norm=batch_norm,
        )
        self.mer_head = MERHead(
            channels=c,
            size=s,
            n_maps=2 * (widths.n_frames - 1),
            conv_channels=widths.mer_conv,
            hidden=widths.mer_hidden,
            n_classes=n_classes,
            dropout=widths.mer_dropout,
            normalised=not reference,
        )
        self.flow_net = (
            FlowNet(
                feature_channels=c,
                encoder_channels=widths.flow_encoder,
                redirect_channels=widths.flow_redirect,
                fuse_channels=widths.flow_fuse,
                down_channels=widths.flow_down,
                decoder_channels=widths.flow_decoder,
                patch_size=widths.patch_size,
                dilation=widths.dilation,
                layers=flow_layers,
                batch_norm=batch_norm,
            )
            if with_flow
            else None
        )
        self.landmark_head = (
            LandmarkHead(
                channels=c,
                size=s,
                conv_channels=widths.landmark_conv,
                hidden=widths.landmark_hidden,
                image_size=widths.image_size,
                n_landmarks=N_LANDMARKS,
                output=landmark_output,
            )
            if with_landmarks
            else None
        )
        if init == "reference":
            # The public code's other modules keep PyTorch's defaults, as ours do.
            init_fcc_as_reference_(self.f5c)
            if self.flow_net is not None:
                init_flow_net_as_reference_(self.flow_net)

    def forward(self, frames: Tensor) -> MOLOutput:
        b, t = frames.shape[:2]
        normalised, first, second = self._pair_maps(frames)
        logits = self.mer_head(torch.stack([first, second], dim=2).flatten(1, 2))
        flow = self.flow_net(normalised, first, second) if self.flow_net is not None else None
        landmarks = None
        if self.landmark_head is not None:
            landmarks = self.landmark_head(second.flatten(0, 1))
            landmarks = landmarks.reshape(b, t - 1, N_LANDMARKS, 2)
        return MOLOutput(logits, flow, landmarks)

    def classify(self, frames: Tensor) -> Tensor:
        """(B, n_classes) logits alone, as :meth:`forward` computes them, without the flow
        network and the landmark head (in eval mode, on 2 CPU cores, about a sixth of the
        time)."""
        _, first, second = self._pair_maps(frames)
        return self.mer_head(torch.stack([first, second], dim=2).flatten(1, 2))

    def _pair_maps(self, frames: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The normalised frames and the F5C maps of the first and second frame of each pair."""
        expected = (self.widths.n_frames, self.widths.image_size, self.widths.image_size)
        if frames.ndim != 4 or tuple(frames.shape[1:]) != expected:
            raise ValueError(
                f"MOL expects frames of shape (B, {', '.join(map(str, expected))}), "
                f"got {tuple(frames.shape)}"
            )
        b, t = frames.shape[:2]
        channels, normalised = self.encoding(frames)
        maps = self.conv_stack(channels.flatten(0, 1))
        first, second = self.f5c(maps.reshape(b, t, *maps.shape[1:]))
        return normalised, first, second

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
    graph: str | None = None,
    k: int = 4,
    with_flow: bool = True,
    with_landmarks: bool = True,
    variant: str = "standard",
    representation: str = "frames_and_change",
    normalisation: str = "frame",
    init: str = "standard",
    flow_layers: str = "standard",
    batch_norm: str = "batched",
    landmark_output: str = "normalised",
) -> MOL:
    """MOL with the widths of ``preset`` (see :data:`~micro_expression.model.presets.PRESETS`)."""
    return MOL(
        get_preset(preset),
        n_classes=n_classes,
        graph=graph,
        k=k,
        with_flow=with_flow,
        with_landmarks=with_landmarks,
        variant=variant,
        representation=representation,
        normalisation=normalisation,
        init=init,
        flow_layers=flow_layers,
        batch_norm=batch_norm,
        landmark_output=landmark_output,
    )


def parameter_counts(model: MOL) -> dict[str, int]:
    """Trainable parameters per part of ``model`` and in total (absent heads count 0)."""
    parts = {
        "encoding": model.encoding,
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
