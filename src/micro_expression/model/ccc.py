"""CCC, the "channel correspondence convolution" of MOL (EdgeConv over a kNN graph)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GRAPHS = ("channel", "spatial")


def knn_cosine(nodes: Tensor, k: int) -> Tensor:
    """Indices of each node's ``k`` most cosine-similar other nodes (itself excluded), best first.

    Shapes: nodes (N, V, D) -> (N, V, k) indices into V.
    """
    n_nodes = nodes.shape[1]
    if not 0 < k < n_nodes:
        raise ValueError(f"k must be in [1, {n_nodes - 1}] for a graph of {n_nodes} nodes, got {k}")
    unit = F.normalize(nodes, dim=-1)
    similarity = unit @ unit.transpose(1, 2)
    self_loops = torch.eye(n_nodes, dtype=torch.bool, device=nodes.device)
    return similarity.masked_fill(self_loops, float("-inf")).topk(k, dim=-1).indices


def gather_nodes(values: Tensor, index: Tensor) -> Tensor:
    """Rows of ``values`` picked per node: (N, V, D), (N, V, k) -> (N, V, k, D)."""
    n, v, k = index.shape
    flat = index.reshape(n, v * k, 1).expand(-1, -1, values.shape[-1])
    return values.gather(1, flat).reshape(n, v, k, values.shape[-1])


class EdgeConv(nn.Module):
    """EdgeConv update: ``max_j ReLU(theta x_i + phi (x_j - x_i))`` over the k nearest nodes j.

    ``phi`` is linear, so ``phi(x_j - x_i) = phi(x_j) - phi(x_i)``: it is applied once per node and
    the results are gathered, instead of once per edge.

    Shapes: nodes (N, V, D) -> (N, V, D).
    """

    def __init__(self, dim: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.theta = nn.Linear(dim, dim)
        self.phi = nn.Linear(dim, dim, bias=False)

    def forward(self, nodes: Tensor) -> Tensor:
        neighbours = knn_cosine(nodes, self.k)
        projected = self.phi(nodes)
        edges = (self.theta(nodes) - projected).unsqueeze(2) + gather_nodes(projected, neighbours)
        return edges.relu().amax(dim=2)


class CCC(nn.Module):
    """Channel correspondence convolution: EdgeConv over a kNN graph, residual.

    ``graph="channel"`` (the paper): each channel's SxS map is a node (D = S*S); EdgeConv, then a
    1x1 conv across channels. ``graph="spatial"`` (the public reference code): each position is a
    node with its C channel values (D = C); no 1x1 conv.

    Shapes: (N, C, S, S) -> (N, C, S, S), S = ``size``.
    """

    def __init__(self, channels: int, size: int, k: int = 4, graph: str = "channel") -> None:
        super().__init__()
        if graph not in GRAPHS:
            raise ValueError(f"graph must be one of {GRAPHS}, got {graph!r}")
        self.graph = graph
        self.edge_conv = EdgeConv(size * size if graph == "channel" else channels, k)
        self.mix = nn.Conv2d(channels, channels, 1) if graph == "channel" else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        if self.graph == "channel":
            update = self.edge_conv(x.reshape(n, c, h * w)).reshape(n, c, h, w)
        else:
            nodes = x.reshape(n, c, h * w).transpose(1, 2)
            update = self.edge_conv(nodes).transpose(1, 2).reshape(n, c, h, w)
        return x + self.mix(update)
