import pytest
import torch

from micro_expression.model.fcc import FCC, AxisPositionEmbedding, GlobalCircularConv


def _without_position(fcc: FCC) -> FCC:
    with torch.no_grad():
        for module in fcc.modules():
            if isinstance(module, AxisPositionEmbedding):
                module.embedding.zero_()
    return fcc.eval()


def test_fcc_keeps_shape():
    assert FCC(8, 16)(torch.randn(3, 8, 16, 16)).shape == (3, 8, 16, 16)


def test_global_circular_conv_matches_explicit_wraparound_sum():
    torch.manual_seed(0)
    conv = GlobalCircularConv(2, 5, "w")
    x = torch.randn(1, 2, 3, 5)
    w = conv.weight[:, 0, 0]  # (C, 5)
    expected = torch.empty_like(x)
    for j in range(5):
        shifted = torch.stack([x[..., (j + k) % 5] for k in range(5)], dim=-1)  # (1, C, 3, 5)
        expected[..., j] = (shifted * w[None, :, None, :]).sum(-1) + conv.bias[None, :, None]
    torch.testing.assert_close(conv(x), expected)


def test_fcc_without_position_embedding_is_circular_translation_equivariant():
    torch.manual_seed(0)
    fcc = _without_position(FCC(8, 16))
    x = torch.randn(2, 8, 16, 16)
    shifted_then_fcc = fcc(torch.roll(x, shifts=(3, -5), dims=(2, 3)))
    fcc_then_shifted = torch.roll(fcc(x), shifts=(3, -5), dims=(2, 3))
    torch.testing.assert_close(shifted_then_fcc, fcc_then_shifted)


def test_fcc_position_embedding_breaks_translation_equivariance():
    torch.manual_seed(0)
    fcc = FCC(8, 16).eval()
    x = torch.randn(2, 8, 16, 16)
    shifted = torch.roll(x, shifts=(3, -5), dims=(2, 3))
    assert not torch.allclose(fcc(shifted), torch.roll(fcc(x), shifts=(3, -5), dims=(2, 3)))


def test_fcc_output_position_sees_the_whole_map_of_its_channel():
    torch.manual_seed(0)
    fcc = FCC(4, 8).eval()
    x = torch.randn(1, 4, 8, 8, requires_grad=True)
    for channel in (0, 3):  # one channel of each half
        (grad,) = torch.autograd.grad(fcc(x)[0, channel, 0, 0], x)
        assert (grad[0, channel] != 0).all()
        others = [c for c in range(4) if c != channel]
        assert (grad[0, others] == 0).all()


def test_fcc_rejects_odd_channels():
    with pytest.raises(ValueError, match="even"):
        FCC(7, 16)


def test_global_circular_conv_rejects_other_map_size():
    with pytest.raises(ValueError, match="kernel of 16 but the input has 8"):
        GlobalCircularConv(4, 16, "h")(torch.randn(1, 4, 8, 16))


def test_unknown_axis_is_rejected():
    with pytest.raises(ValueError, match="axis"):
        GlobalCircularConv(4, 16, "t")
