"""Small convolution building blocks shared by the MOL modules."""

from __future__ import annotations

from torch import nn

BATCH_NORMS = ("batched", "per_pair")
"""How the batch norms of FCC and the flow network see the T-1 pairs of B clips: ``batched``
all B(T-1) pairs (the flow encoder all BT frames) at once, one running-stat update per step;
``per_pair`` one pair at a time, as the public MOL code runs them (``MOL_model.py:38-73``):
statistics over B, T-1 updates per step (2(T-1) in the flow encoder, which sees a pair's first
frames, then its second frames)."""


def check_batch_norm(batch_norm: str) -> str:
    """``batch_norm`` itself when it is one of :data:`BATCH_NORMS`; else raise naming them."""
    if batch_norm not in BATCH_NORMS:
        raise ValueError(f"batch_norm must be one of {BATCH_NORMS}, got {batch_norm!r}")
    return batch_norm


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
