import pytest
import torch

from micro_expression.model.ccc import CCC, EdgeConv, ReferenceEdgeUpdate, knn_cosine
from micro_expression.model.f5c import F5C


@pytest.mark.parametrize("graph", ["channel", "spatial", "reference"])
def test_ccc_and_f5c_keep_shape(graph):
    x = torch.randn(2, 16, 8, 8)
    assert CCC(16, 8, k=4, graph=graph)(x).shape == x.shape
    assert F5C(16, 8, k=4, graph=graph)(x).shape == x.shape


def test_knn_picks_the_most_cosine_similar_other_nodes():
    e0, e1, e2 = torch.eye(3)
    nodes = torch.stack(
        [e0, 100 * (e0 + 0.1 * e1), e0 + 0.5 * e1, e1, e2, e1 + e2]
    ).unsqueeze(0)  # node 1 is scaled: cosine similarity ignores length
    neighbours = knn_cosine(nodes, k=2)
    assert neighbours.shape == (1, 6, 2)
    assert neighbours[0, 0].tolist() == [1, 2]
    assert neighbours[0, 3].tolist()[0] == 5
    assert neighbours[0, 4].tolist()[0] == 5


def test_channel_graph_links_channels_with_similar_maps():
    torch.manual_seed(0)
    maps = torch.randn(1, 6, 4, 4)
    maps[0, 4] = 3 * maps[0, 1] + 0.01 * torch.randn(4, 4)  # channel 4 ~ channel 1
    neighbours = knn_cosine(maps.flatten(2), k=1)
    assert neighbours[0, 1, 0] == 4 and neighbours[0, 4, 0] == 1


def test_knn_never_picks_the_node_itself():
    neighbours = knn_cosine(torch.randn(3, 10, 5), k=4)
    assert not (neighbours == torch.arange(10).view(1, 10, 1)).any()


def test_edge_conv_matches_per_edge_loop():
    torch.manual_seed(0)
    edge_conv = EdgeConv(dim=5, k=3)
    nodes = torch.randn(2, 7, 5)
    neighbours = knn_cosine(nodes, 3)
    expected = torch.empty_like(nodes)
    for n in range(2):
        for i in range(7):
            edges = [
                torch.relu(edge_conv.theta(nodes[n, i]) + edge_conv.phi(nodes[n, j] - nodes[n, i]))
                for j in neighbours[n, i].tolist()
            ]
            expected[n, i] = torch.stack(edges).amax(0)
    torch.testing.assert_close(edge_conv(nodes), expected)


def test_ccc_channel_graph_has_1x1_conv_and_spatial_graph_none():
    channel, spatial = CCC(16, 8, graph="channel"), CCC(16, 8, graph="spatial")
    assert isinstance(channel.mix, torch.nn.Conv2d)
    assert channel.edge_conv.theta.in_features == 64  # a node is an 8x8 map
    assert isinstance(spatial.mix, torch.nn.Identity)
    assert spatial.edge_conv.theta.in_features == 16  # a node is a position's 16 channels


def test_ccc_rejects_unknown_graph():
    with pytest.raises(ValueError, match="graph must be one of"):
        CCC(16, 8, graph="temporal")


def test_knn_rejects_k_not_below_node_count():
    with pytest.raises(ValueError, match="k must be in"):
        CCC(4, 8, k=4)(torch.randn(1, 4, 8, 8))


def test_knn_with_self_puts_each_node_first():
    neighbours = knn_cosine(torch.randn(2, 9, 5), k=3, include_self=True)
    assert (neighbours[..., 0] == torch.arange(9)).all()


def _reference_ccc_loop(update: ReferenceEdgeUpdate, maps: torch.Tensor) -> torch.Tensor:
    """The public code's per-channel, per-neighbour loop, written out: for position p and
    neighbour j, g_j[p] = x[nbr_j(p)] - x[p]; edge = W1 x + W2 (g_j - x); ReLU; max over j."""
    n, c, p = maps.shape
    unit = torch.nn.functional.normalize(maps, dim=1)  # positions compared by channel vectors
    similarity = unit.transpose(1, 2) @ unit
    neighbours = similarity.topk(update.k, dim=-1).indices  # the position itself included
    out = torch.empty_like(maps)
    for b in range(n):
        for channel in range(c):
            x = maps[b, channel]
            edges = []
            for j in range(update.k):
                g = x[neighbours[b, :, j]] - x
                edges.append(torch.relu(update.own(x) + update.neighbour(g - x)))
            out[b, channel] = torch.stack(edges).amax(0)
    return out


def test_reference_update_matches_the_public_code_loop():
    torch.manual_seed(0)
    update = ReferenceEdgeUpdate(positions=16, k=4)
    maps = torch.randn(2, 6, 16)
    torch.testing.assert_close(update(maps), _reference_ccc_loop(update, maps))


def test_reference_ccc_keeps_shape_and_has_no_1x1_conv():
    ccc = CCC(8, 4, k=4, graph="reference")
    x = torch.randn(2, 8, 4, 4)
    assert ccc(x).shape == x.shape
    assert isinstance(ccc.mix, torch.nn.Identity)
    assert ccc.edge_conv.own.in_features == 16  # linear maps over a channel's 4x4 map


def test_unknown_graph_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"\('channel', 'spatial', 'reference'\)"):
        CCC(8, 4, graph="positions")
