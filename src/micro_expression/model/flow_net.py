"""FlowNetC-style optical flow network fed with MOL's F5C features."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from micro_expression.model.correlation import Correlation
from micro_expression.model.layers import ConvNormAct

_LEAK = 0.1


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
    """Stride-2 convs (kernel 7, then 5) applied to one grayscale frame; returns every scale.

    Shapes: (N, 1, S, S) -> [(N, channels[i], S / 2**(i+1), S / 2**(i+1)) for each i].
    """

    def __init__(self, channels: Sequence[int]) -> None:
        super().__init__()
        widths = [1, *channels]
        self.stages = nn.ModuleList(
            ConvNormAct(c_in, c_out, 7 if i == 0 else 5, stride=2, negative_slope=_LEAK)
            for i, (c_in, c_out) in enumerate(zip(widths, widths[1:]))
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
        self, bottom_channels: int, skip_channels: Sequence[int], widths: Sequence[int]
    ) -> None:
        super().__init__()
        if len(skip_channels) != len(widths):
            raise ValueError(f"one decoder width per skip: {len(skip_channels)} != {len(widths)}")
        self.predict = nn.ModuleList()
        self.up_features = nn.ModuleList()
        self.up_flow = nn.ModuleList()
        channels = bottom_channels
        for skip, width in zip(skip_channels, widths):
            self.predict.append(nn.Conv2d(channels, 2, 3, padding=1))
            self.up_features.append(_up(channels, width))
            self.up_flow.append(nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1, bias=False))
            channels = skip + width + 2
        self.predict_final = nn.Conv2d(channels, 2, 3, padding=1)

    def forward(self, bottom: Tensor, skips: Sequence[Tensor]) -> Tensor:
        x = bottom
        for predict, up_features, up_flow, skip in zip(
            self.predict, self.up_features, self.up_flow, skips
        ):
            x = torch.cat([skip, up_features(x), up_flow(predict(x))], dim=1)
        return self.predict_final(x)


class FlowNet(nn.Module):
    """FlowNetC with F5C features: flow between each pair of consecutive frames, in pixels.

    Each frame goes once through the shared encoder; for a pair (t, t+1) the correlation of
    their deepest encoder features (leaky ReLU), a 1x1 redirect of frame t's features and the F5C
    features of both frames are fused at the feature scale, encoded further down, then refined
    back to full resolution with frame t's encoder features and frame t itself as skips.

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
    ) -> None:
        super().__init__()
        self.encoder = FlowEncoder(encoder_channels)
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
        self.decoder = FlowDecoder(widths[-1], skip_channels, decoder_channels)

    def forward(self, frames: Tensor, first: Tensor, second: Tensor) -> Tensor:
        b, t, h, w = frames.shape
        frames = frames.reshape(b * t, 1, h, w)
        encoded = self.encoder(frames)
        encoded_first = _pair_frames(encoded[-1], b, t)
        correlation = self.correlation(
            encoded_first, _pair_frames(encoded[-1], b, t, second=True)
        )
        fused = self.fuse(
            torch.cat(
                [
                    self.redirect(encoded_first),
                    F.leaky_relu_(correlation, _LEAK),
                    first.flatten(0, 1),
                    second.flatten(0, 1),
                ],
                dim=1,
            )
        )
        pyramid = [fused]
        for stage in self.down:
            pyramid.append(stage(pyramid[-1]))
        frame_skips = [_pair_frames(x, b, t) for x in [frames, *encoded[:-1]]]
        flow = self.decoder(pyramid[-1], pyramid[-2::-1] + frame_skips[::-1])
        return flow.reshape(b, t - 1, 2, h, w)
