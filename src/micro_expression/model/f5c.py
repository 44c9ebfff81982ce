"""F5C block of MOL: FCC (global spatial mixing) then CCC (graph over channels)."""

from __future__ import annotations

from torch import nn

from micro_expression.model.ccc import CCC
from micro_expression.model.fcc import FCC


class F5C(nn.Sequential):
    """FCC then CCC on one frame's feature map.

    Shapes: (N, C, S, S) -> (N, C, S, S).
    """

    def __init__(self, channels: int, size: int, k: int = 4, graph: str = "channel") -> None:
        super().__init__()
        self.fcc = FCC(channels, size)
        self.ccc = CCC(channels, size, k=k, graph=graph)
