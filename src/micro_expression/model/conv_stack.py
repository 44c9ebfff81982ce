"""Shared per-frame convolution stacks: an input frame to a C-channel feature map."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from micro_expression.model.layers import ConvNormAct

REFERENCE_LAYERS = ((4, 2, 0), (3, 2, 0), (2, 2, 1), (1, 1, 0))
"""(kernel, stride, padding) of the public MOL code's four convolutions: 128 -> 63 -> 31 -> 16."""


class ConvStack(nn.Module):
    """Stride-2 3x3 conv-BN-ReLU blocks, one per entry of ``channels``; the last entry is C.

    Shapes: (N, in_channels, S, S) -> (N, channels[-1], S / 2**len(channels), ...), e.g.
    (N, 2, 128, 128) -> (N, 128, 16, 16) with ``channels=(32, 64, 128)``.
    """

    def __init__(self, channels: Sequence[int], in_channels: int = 1) -> None:
        super().__init__()
        widths = [in_channels, *channels]
        self.blocks = nn.Sequential(
            *(ConvNormAct(c_in, c_out, 3, stride=2) for c_in, c_out in zip(widths, widths[1:]))
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(x)


class ReferenceConvStack(nn.Module):
    """The public MOL code's stack: four plain convolutions (kernels 4, 3, 2, 1), no
    normalisation, no activation, so the whole stack is one linear map of the frame.

    ``channels`` has four widths (the code's are 8, 32, 64, 128). The layer geometry fixes the
    frame size: 128 x 128 in, 16 x 16 out.

    Shapes: (N, in_channels, 128, 128) -> (N, channels[-1], 16, 16).
    """

    def __init__(self, channels: Sequence[int], in_channels: int = 1) -> None:
        super().__init__()
        if len(channels) != len(REFERENCE_LAYERS):
            raise ValueError(
                f"ReferenceConvStack needs {len(REFERENCE_LAYERS)} widths, got {list(channels)}"
            )
        widths = [in_channels, *channels]
        self.blocks = nn.Sequential(
            *(
                nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding)
                for (c_in, c_out), (kernel, stride, padding) in zip(
                    zip(widths, widths[1:]), REFERENCE_LAYERS
                )
            )
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(x)
