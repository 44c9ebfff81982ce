"""FCC, the "fully-connected convolution" of MOL (ParC-style global circular convolutions)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_AXES = ("h", "w")


def _axis_shape(channels: int, size: int, axis: str) -> tuple[int, int, int]:
    if axis not in _AXES:
        raise ValueError(f"axis must be one of {_AXES}, got {axis!r}")
    return (channels, size, 1) if axis == "h" else (channels, 1, size)


class AxisPositionEmbedding(nn.Module):
    """Learned per-channel position embedding along one axis, broadcast over the other.

    Shapes: (N, C, S, S) -> (N, C, S, S).
    """

    def __init__(self, channels: int, size: int, axis: str) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.empty(1, *_axis_shape(channels, size, axis)))
        nn.init.trunc_normal_(self.embedding, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.embedding


class GlobalCircularConv(nn.Module):
    """Depthwise circular convolution whose kernel spans the whole height or width.

    For ``axis="h"``: ``y[n, c, i, j] = b[c] + sum_k w[c, k] * x[n, c, (i + k) mod S, j]``; the
    receptive field is the whole column at the cost of one 1-D convolution.

    Shapes: (N, C, S, S) -> (N, C, S, S); S must equal ``size``.
    """

    def __init__(self, channels: int, size: int, axis: str) -> None:
        super().__init__()
        self.axis = axis
        self.size = size
        self.weight = nn.Parameter(torch.empty(channels, *_axis_shape(1, size, axis)))
        self.bias = nn.Parameter(torch.zeros(channels))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)

    def forward(self, x: Tensor) -> Tensor:
        dim = 2 if self.axis == "h" else 3
        if x.shape[dim] != self.size:
            raise ValueError(
                f"GlobalCircularConv(axis={self.axis!r}) has a kernel of {self.size} but the "
                f"input has {x.shape[dim]} along that axis (input shape {tuple(x.shape)})"
            )
        # Wrap S - 1 samples around so a valid convolution of length S gives S circular outputs.
        wrapped = torch.cat([x, x.narrow(dim, 0, self.size - 1)], dim=dim)
        return F.conv2d(wrapped, self.weight, self.bias, groups=x.shape[1])

    def extra_repr(self) -> str:
        return f"channels={self.weight.shape[0]}, size={self.size}, axis={self.axis!r}"


class AxialCircularMixer(nn.Module):
    """Position embedding, norm, global circular conv along ``first_axis``, then the other axis.

    Each stage gets its own position embedding along its axis (ParC): a circular convolution is
    translation equivariant, the embedding restores absolute position.

    Shapes: (N, C, S, S) -> (N, C, S, S).
    """

    def __init__(self, channels: int, size: int, first_axis: str) -> None:
        super().__init__()
        second_axis = _AXES[1 - _AXES.index(first_axis)]
        self.pos_first = AxisPositionEmbedding(channels, size, first_axis)
        self.norm = nn.BatchNorm2d(channels)
        self.conv_first = GlobalCircularConv(channels, size, first_axis)
        self.pos_second = AxisPositionEmbedding(channels, size, second_axis)
        self.conv_second = GlobalCircularConv(channels, size, second_axis)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv_first(self.norm(self.pos_first(x)))
        return self.conv_second(self.pos_second(x))


class FCC(nn.Module):
    """Fully-connected convolution: half the channels mixed height first, half width first.

    Residual around each half. Every output position sees the whole map of its channel (global
    receptive field).

    Shapes: (N, C, S, S) -> (N, C, S, S); C even, S = ``size``.
    """

    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f"FCC splits channels in halves: need an even count, not {channels}")
        self.mix_h = AxialCircularMixer(channels // 2, size, "h")
        self.mix_w = AxialCircularMixer(channels // 2, size, "w")

    def forward(self, x: Tensor) -> Tensor:
        x_h, x_w = x.chunk(2, dim=1)
        return torch.cat([x_h + self.mix_h(x_h), x_w + self.mix_w(x_w)], dim=1)
