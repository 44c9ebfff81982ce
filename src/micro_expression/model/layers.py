"""Small convolution building blocks shared by the MOL modules."""

from __future__ import annotations

from torch import nn


class ConvNormAct(nn.Sequential):
    """Convolution, batch norm, activation; 'same' padding for odd kernels, halving for stride 2.

    Shapes: (N, C_in, H, W) -> (N, C_out, H / stride, W / stride) when ``H`` and ``W`` are
    divisible by ``stride`` (padding is ``(kernel_size - 1) // 2``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        negative_slope: float = 0.0,
    ) -> None:
        activation = (
            nn.LeakyReLU(negative_slope, inplace=True) if negative_slope else nn.ReLU(inplace=True)
        )
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=(kernel_size - 1) // 2,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
            activation,
        )
