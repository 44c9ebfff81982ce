"""FlowNetC-style optical flow network fed with MOL's F5C features."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from micro_expression.model.correlation import Correlation
from micro_expression.model.layers import ConvNormAct, check_batch_norm

_LEAK = 0.1
LAYERS = ("standard", "reference")
"""Flow network layer geometry: ``standard`` encoder kernels 7, 5, 5 and biased flow
predictions; ``reference`` the public code's kernels 6, 4, 2 (``FlowNet.py:75-77``, padding 2,
1, 0) and flow predictions without bias (``FlowNet.py:42``)."""


def encoder_kernels(layers: str, depth: int) -> tuple[int, ...]:
    """Kernel of each of the ``depth`` encoder convs for ``layers`` (one of :data:`LAYERS`)."""
    if layers not in LAYERS:
        raise ValueError(f"flow layers must be one of {LAYERS}, got {layers!r}")
    kernels = (7, *[5] * (depth - 1)) if layers == "standard" else (6, 4, 2)
    if len(kernels) != depth:
        raise ValueError(f"the reference flow encoder has 3 stages, not {depth}")
    return kernels


def _pair_frames(x: Tensor, batch: int, n_frames: int, second: bool = False) -> Tensor:
    """Per-frame batch to a batch of pairs: (B*T, ...) -> (B*(T-1), ...), the first frame of
    each consecutive pair (frames 0..T-2), or with ``second`` its second frame (1..T-1)."""
    clips = x.reshape(batch, n_frames, *x.shape[1:])
    return (clips[:, 1:] if second else clips[:, :-1]).flatten(0, 1)


def _up(in_channels: int, out_channels: int) -> nn.Sequential:
    """Deconvolution doubling the resolution: (N, C_in, H, W) -> (N, C_out, 2H, 2W)."""
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=False),
        nn.LeakyReLU(_LEAK, inplace=True),
    )


class FlowEncoder(nn.Module):
    """Stride-2 convs (``kernels``, by default 7, then 5) on one grayscale frame; returns every
    scale. Padding ``(kernel - 1) // 2`` halves even sizes for odd and even kernels alike.

    Shapes: (N, 1, S, S) -> [(N, channels[i], S / 2**(i+1), S / 2**(i+1)) for each i].
    """

    def __init__(self, channels: Sequence[int], kernels: Sequence[int] | None = None) -> None:
        super().__init__()
        widths = [1, *channels]
        kernels = kernels or encoder_kernels("standard", len(channels))
        self.stages = nn.ModuleList(
            ConvNormAct(c_in, c_out, kernel, stride=2, negative_slope=_LEAK)
            for c_in, c_out, kernel in zip(widths[:-1], widths[1:], kernels, strict=True)
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        scales = []
        for stage in self.stages:
            x = stage(x)
            scales.append(x)
        return scales


class FlowDecoder(nn.Module):
    """FlowNet refinement: predict flow, upsample features and flow, concat the skip; repeat.

    Shapes: bottom (N, C_b, s, s) and skips coarse to fine [(N, C_i, s * 2**(i+1), ...)] ->
    flow (N, 2, s * 2**len(skips), s * 2**len(skips)) at the finest skip's resolution.
    """

    def __init__(
        self,
        bottom_channels: int,
        skip_channels: Sequence[int],
        widths: Sequence[int],
        predict_bias: bool = True,
    ) -> None:
        super().__init__()
        if len(skip_channels) != len(widths):
            raise ValueError(f"one decoder width per skip: {len(skip_channels)} != {len(widths)}")
        self.predict = nn.ModuleList()
        self.up_features = nn.ModuleList()
        self.up_flow = nn.ModuleList()
        channels = bottom_channels
        for skip, width in zip(skip_channels, widths):
            self.predict.append(nn.Conv2d(channels, 2, 3, padding=1, bias=predict_bias))
            self.up_features.append(_up(channels, width))
            self.up_flow.append(nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1, bias=False))
            channels = skip + width + 2
        self.predict_final = nn.Conv2d(channels, 2, 3, padding=1, bias=predict_bias)

    def forward(self, bottom: Tensor, skips: Sequence[Tensor]) -> Tensor:
        x = bottom
        for predict, up_features, up_flow, skip in zip(
            self.predict, self.up_features, self.up_flow, skips
        ):
            x = torch.cat([skip, up_features(x), up_flow(predict(x))], dim=1)
        return self.predict_final(x)


class FlowNet(nn.Module):
    """FlowNetC with F5C features: flow between each pair of consecutive frames, in pixels.

    The shared encoder runs on both frames of a pair; for a pair (t, t+1) the correlation of
    their deepest encoder features (leaky ReLU), a 1x1 redirect of frame t's features and the F5C
    features of both frames are fused at the feature scale, encoded further down, then refined
    back to full resolution with frame t's encoder features and frame t itself as skips.
    ``layers`` picks the layer geometry (:data:`LAYERS`), ``batch_norm`` how the batch norms
    see the pairs (:data:`~micro_expression.model.layers.BATCH_NORMS`): batched, each frame is
    encoded once; per pair, the encoder sees each pair's first frames, then its second frames.

    Shapes: frames (B, T, S, S); first, second (B, T-1, C, S/2**E, S/2**E), the F5C features of
    each pair's first and second frame, E = ``len(encoder_channels)`` -> flow (B, T-1, 2, S, S);
    channel 0 is x (columns), 1 is y (rows).
    """

    def __init__(
        self,
        feature_channels: int,
        encoder_channels: Sequence[int],
        redirect_channels: int,
        fuse_channels: int,
        down_channels: Sequence[int],
        decoder_channels: Sequence[int],
        patch_size: int = 21,
        dilation: int = 2,
        layers: str = "standard",
        batch_norm: str = "batched",
    ) -> None:
        super().__init__()
        self.per_pair = check_batch_norm(batch_norm) == "per_pair"
        self.encoder = FlowEncoder(
            encoder_channels, encoder_kernels(layers, len(encoder_channels))
        )
        self.correlation = Correlation(patch_size, dilation)
        self.redirect = ConvNormAct(
            encoder_channels[-1], redirect_channels, 1, negative_slope=_LEAK
        )
        self.fuse = ConvNormAct(
            redirect_channels + patch_size**2 + 2 * feature_channels,
            fuse_channels,
            3,
            negative_slope=_LEAK,
        )
        widths = [fuse_channels, *down_channels]
        self.down = nn.ModuleList(
            nn.Sequential(
                ConvNormAct(c_in, c_out, 3, stride=2, negative_slope=_LEAK),
                ConvNormAct(c_out, c_out, 3, negative_slope=_LEAK),
            )
            for c_in, c_out in zip(widths, widths[1:])
        )
        skip_channels = [*reversed(widths[:-1]), *reversed(encoder_channels[:-1]), 1]
        self.decoder = FlowDecoder(
            widths[-1], skip_channels, decoder_channels, predict_bias=layers == "standard"
        )

    def forward(self, frames: Tensor, first: Tensor, second: Tensor) -> Tensor:
        b, t, h, w = frames.shape
        frames = frames.reshape(b, t, 1, h, w)
        if self.per_pair:
            flows = [
                self.pair_flow(
                    frames[:, i],
                    self.encoder(frames[:, i]),
                    self.encoder(frames[:, i + 1])[-1],
                    first[:, i],
                    second[:, i],
                )
                for i in range(t - 1)
            ]
            return torch.stack(flows, dim=1)
        encoded = self.encoder(frames.flatten(0, 1))
        flow = self.pair_flow(
            _pair_frames(frames.flatten(0, 1), b, t),
            [_pair_frames(x, b, t) for x in encoded],
            _pair_frames(encoded[-1], b, t, second=True),
            first.flatten(0, 1),
            second.flatten(0, 1),
        )
        return flow.reshape(b, t - 1, 2, h, w)

    def pair_flow(
        self,
        frame: Tensor,
        encoded: Sequence[Tensor],
        encoded_next: Tensor,
        features: Tensor,
        features_next: Tensor,
    ) -> Tensor:
        """Flow of N pairs from their first frame, its encoder scales, the next frame's
        deepest encoder features and both frames' F5C features.

        Shapes: frame (N, 1, S, S); encoded [(N, E_i, S / 2**(i+1), ...)]; encoded_next
        (N, E_last, s, s); features, features_next (N, C, s, s) -> (N, 2, S, S).
        """
        correlation = self.correlation(encoded[-1], encoded_next)
        fused = self.fuse(
            torch.cat(
                [
                    self.redirect(encoded[-1]),
                    F.leaky_relu_(correlation, _LEAK),
                    features,
                    features_next,
                ],
                dim=1,
            )
        )
        pyramid = [fused]
        for stage in self.down:
            pyramid.append(stage(pyramid[-1]))
        skips = [frame, *encoded[:-1]]
        return self.decoder(pyramid[-1], pyramid[-2::-1] + skips[::-1])
