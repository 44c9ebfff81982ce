"""FlowNetC correlation layer in plain, vectorised PyTorch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def displacement_index(
    height: int, width: int, patch_size: int, dilation: int, device: torch.device | None = None
) -> Tensor:
    """For each position and displacement, the flat index of the displaced position.

    Displacement ``d = a * patch_size + b`` moves by ``dy = (a - r) * dilation`` rows and
    ``dx = (b - r) * dilation`` columns, ``r = patch_size // 2``. Positions falling outside the
    map get index ``height * width`` (a zero column).

    Shapes: -> (height * width, patch_size**2), int64.
    """
    offsets = (torch.arange(patch_size, device=device) - patch_size // 2) * dilation
    rows = torch.arange(height, device=device).view(height, 1, 1, 1) + offsets.view(1, 1, -1, 1)
    cols = torch.arange(width, device=device).view(1, width, 1, 1) + offsets.view(1, 1, 1, -1)
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    flat = torch.where(inside, rows * width + cols, height * width)
    return flat.reshape(height * width, patch_size * patch_size)


def correlation(first: Tensor, second: Tensor, patch_size: int = 21, dilation: int = 2) -> Tensor:
    """Mean over channels of ``first(p) * second(p + d)`` for every displacement ``d`` of the patch.

    Zero where ``p + d`` leaves the map (zero padding). Computed as one batched matrix product of
    all position pairs, then a gather of the displacements: on the 16x16 MOL map a 21x21 patch with
    dilation 2 reaches every position anyway, so no pair is wasted.

    Shapes: first, second (N, C, H, W) -> (N, patch_size**2, H, W); channel
    ``a * patch_size + b`` holds displacement ``((a - r) * dilation, (b - r) * dilation)`` in
    (rows, columns), ``r = patch_size // 2``.
    """
    if first.shape != second.shape:
        raise ValueError(
            f"correlation needs equal shapes, got {tuple(first.shape)} and {tuple(second.shape)}"
        )
    if patch_size % 2 == 0:
        raise ValueError(f"patch_size must be odd, got {patch_size}")
    n, c, h, w = first.shape
    pairs = first.reshape(n, c, h * w).transpose(1, 2) @ second.reshape(n, c, h * w) / c
    pairs = F.pad(pairs, (0, 1))  # column h*w: zero, for displacements leaving the map
    index = displacement_index(h, w, patch_size, dilation, device=first.device)
    picked = pairs.gather(2, index.unsqueeze(0).expand(n, -1, -1))
    return picked.transpose(1, 2).reshape(n, patch_size * patch_size, h, w)


class Correlation(nn.Module):
    """Module form of :func:`correlation`: (N, C, H, W) x 2 -> (N, patch_size**2, H, W)."""

    def __init__(self, patch_size: int = 21, dilation: int = 2) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.dilation = dilation

    def forward(self, first: Tensor, second: Tensor) -> Tensor:
        return correlation(first, second, self.patch_size, self.dilation)

    def extra_repr(self) -> str:
        return f"patch_size={self.patch_size}, dilation={self.dilation}"
