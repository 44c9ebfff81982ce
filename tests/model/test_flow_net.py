import torch

from micro_expression.model.flow_net import FlowDecoder, FlowEncoder, FlowNet


def test_flow_encoder_returns_every_scale():
    scales = FlowEncoder((4, 8, 16))(torch.randn(2, 1, 128, 128))
    assert [tuple(s.shape) for s in scales] == [(2, 4, 64, 64), (2, 8, 32, 32), (2, 16, 16, 16)]


def test_flow_decoder_refines_to_finest_skip():
    decoder = FlowDecoder(16, skip_channels=(8, 4, 1), widths=(8, 4, 4))
    skips = [torch.randn(2, 8, 8, 8), torch.randn(2, 4, 16, 16), torch.randn(2, 1, 32, 32)]
    assert decoder(torch.randn(2, 16, 4, 4), skips).shape == (2, 2, 32, 32)


def test_flow_net_gives_full_resolution_flow_per_consecutive_pair():
    flow_net = FlowNet(
        feature_channels=8,
        encoder_channels=(4, 8, 16),
        redirect_channels=4,
        fuse_channels=8,
        down_channels=(8, 8, 16),
        decoder_channels=(8, 8, 8, 8, 4, 4),
    )
    frames = torch.randn(2, 4, 128, 128)
    first, second = torch.randn(2, 3, 8, 16, 16), torch.randn(2, 3, 8, 16, 16)
    assert flow_net(frames, first, second).shape == (2, 3, 2, 128, 128)
    fuse_in = flow_net.fuse[0].in_channels
    assert fuse_in == 4 + 441 + 2 * 8  # redirect, 21x21 displacements, both F5C maps
