"""Shared per-frame convolution stack: a grayscale frame to a C-channel feature map."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from micro_expression.model.layers import ConvNormAct


class ConvStack(nn.Module):
    """Stride-2 3x3 conv blocks, one per entry of ``channels``; the last entry is C.

    Shapes: (N, 1, S, S) -> (N, channels[-1], S / 2**len(channels), S / 2**len(channels)),
    e.g. (N, 1, 128, 128) -> (N, 128, 16, 16) with ``channels=(32, 64, 128)``.
    """

    def __init__(self, channels: Sequence[int], in_channels: int = 1) -> None:
        super().__init__()
        widths = [in_channels, *channels]
        self.blocks = nn.Sequential(
            *(ConvNormAct(c_in, c_out, 3, stride=2) for c_in, c_out in zip(widths, widths[1:]))
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(x)
