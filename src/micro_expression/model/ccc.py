"""CCC, the "channel correspondence convolution" of MOL (EdgeConv over a kNN graph)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GRAPHS = ("channel", "spatial", "reference")


def knn_cosine(nodes: Tensor, k: int, include_self: bool = False) -> Tensor:
    """Indices of each node's ``k`` most cosine-similar nodes, best first.

    Other nodes only by default; with ``include_self`` the node itself competes too (and, being
    its own best match, comes first), as in the public MOL code.

    Shapes: nodes (N, V, D) -> (N, V, k) indices into V.
    """
    n_nodes = nodes.shape[1]
    most = n_nodes if include_self else n_nodes - 1
    if not 0 < k <= most:
        raise ValueError(f"k must be in [1, {most}] for a graph of {n_nodes} nodes, got {k}")
    unit = F.normalize(nodes, dim=-1)
    similarity = unit @ unit.transpose(1, 2)
    if not include_self:
        self_loops = torch.eye(n_nodes, dtype=torch.bool, device=nodes.device)
        similarity = similarity.masked_fill(self_loops, float("-inf"))
    return similarity.topk(k, dim=-1).indices


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


class ReferenceEdgeUpdate(nn.Module):
    """The CCC update of the public MOL code (CYF-cuber/MOL ``modules/CCC.py`` at 0a75455).

    The graph links each of the P = S*S positions to its ``k`` most cosine-similar positions
    (channel vectors compared, the position itself included). Each channel's whole map x is then
    updated with two linear maps over the P values shared by all channels:
    ``max_j ReLU(W1 x + W2 (g_j - x))``, where ``g_j`` holds at every position its j-th
    neighbour's value minus its own. ``g_j`` is already a difference, so the code subtracts the
    own map twice; kept here, since this variant exists to reproduce that code.

    Shapes: (N, C, P) -> (N, C, P).
    """

    def __init__(self, positions: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.own = nn.Linear(positions, positions)
        self.neighbour = nn.Linear(positions, positions)

    def forward(self, maps: Tensor) -> Tensor:
        neighbours = knn_cosine(maps.transpose(1, 2), self.k, include_self=True)  # (N, P, k)
        n, c, p = maps.shape
        index = neighbours.transpose(1, 2).reshape(n, 1, self.k * p).expand(-1, c, -1)
        gathered = maps.gather(2, index).reshape(n, c, self.k, p)  # value at the j-th neighbour
        differences = gathered - maps.unsqueeze(2)
        edges = self.own(maps).unsqueeze(2) + self.neighbour(differences - maps.unsqueeze(2))
        return edges.relu().amax(dim=2)


class CCC(nn.Module):
    """Channel correspondence convolution: a graph update of the feature map, residual.

    ``graph="channel"`` (the paper): each channel's SxS map is a node (D = S*S); EdgeConv, then a
    1x1 conv across channels. ``graph="spatial"``: each position is a node with its C channel
    values (D = C), EdgeConv; no 1x1 conv. ``graph="reference"``: the public code's update,
    :class:`ReferenceEdgeUpdate` (a graph over positions, linear maps over each channel's map);
    no 1x1 conv.

    Shapes: (N, C, S, S) -> (N, C, S, S), S = ``size``.
    """

    def __init__(self, channels: int, size: int, k: int = 4, graph: str = "channel") -> None:
        super().__init__()
        if graph not in GRAPHS:
            raise ValueError(f"graph must be one of {GRAPHS}, got {graph!r}")
        self.graph = graph
        if graph == "reference":
            self.edge_conv: nn.Module = ReferenceEdgeUpdate(size * size, k)
        else:
            self.edge_conv = EdgeConv(size * size if graph == "channel" else channels, k)
        self.mix = nn.Conv2d(channels, channels, 1) if graph == "channel" else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        if self.graph == "spatial":
            nodes = x.reshape(n, c, h * w).transpose(1, 2)
            update = self.edge_conv(nodes).transpose(1, 2).reshape(n, c, h, w)
        else:
            update = self.edge_conv(x.reshape(n, c, h * w)).reshape(n, c, h, w)
        return x + self.mix(update)
