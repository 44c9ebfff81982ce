"""F5C block of MOL (FCC then CCC), and its application to the consecutive frame pairs."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from micro_expression.model.ccc import CCC
from micro_expression.model.fcc import FCC
from micro_expression.model.layers import check_batch_norm

PAIR_WEIGHTS = ("shared", "separate")


class F5C(nn.Sequential):
    """FCC then CCC on one frame's feature map.

    Shapes: (N, C, S, S) -> (N, C, S, S).
    """

    def __init__(self, channels: int, size: int, k: int = 4, graph: str = "channel") -> None:
        super().__init__()
        self.fcc = FCC(channels, size)
        self.ccc = CCC(channels, size, k=k, graph=graph)


class PairF5C(nn.Module):
    """F5C features of both frames of each consecutive pair (t, t+1).

    ``weights="shared"``: one F5C for every frame, so a frame has the same features in both
    pairs it belongs to (computed once). ``"separate"``: one F5C for the first frame of a pair
    and another for the second (the public MOL code's FCC_1/CCC_1 and FCC_2/CCC_2), so every
    inner frame is encoded twice, differently. ``batch_norm="per_pair"``: each pair's first
    frames, then its second frames, go through as a batch of B, pair after pair, as the public
    code runs them (:data:`~micro_expression.model.layers.BATCH_NORMS`).

    Shapes: (B, T, C, S, S) conv-stack maps -> first, second: (B, T-1, C, S, S) each, the
    features of frames 0..T-2 and 1..T-1.
    """

    def __init__(
        self,
        channels: int,
        size: int,
        k: int = 4,
        graph: str = "channel",
        weights: str = "shared",
        batch_norm: str = "batched",
    ) -> None:
        super().__init__()
        if weights not in PAIR_WEIGHTS:
            raise ValueError(f"pair weights must be one of {PAIR_WEIGHTS}, got {weights!r}")
        self.per_pair = check_batch_norm(batch_norm) == "per_pair"
        self.first = F5C(channels, size, k=k, graph=graph)
        self.second = F5C(channels, size, k=k, graph=graph) if weights == "separate" else None

    def forward(self, maps: Tensor) -> tuple[Tensor, Tensor]:
        b, t = maps.shape[:2]
        if self.per_pair:
            second = self.first if self.second is None else self.second
            pairs = [(self.first(maps[:, i]), second(maps[:, i + 1])) for i in range(t - 1)]
            return tuple(torch.stack(side, dim=1) for side in zip(*pairs))
        if self.second is None:
            features = self.first(maps.flatten(0, 1)).reshape(maps.shape)
            return features[:, :-1], features[:, 1:]
        first = self.first(maps[:, :-1].flatten(0, 1)).reshape(b, t - 1, *maps.shape[2:])
        second = self.second(maps[:, 1:].flatten(0, 1)).reshape(b, t - 1, *maps.shape[2:])
        return first, second
