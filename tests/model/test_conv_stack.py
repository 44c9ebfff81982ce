import torch

from micro_expression.model.conv_stack import ConvStack


def test_conv_stack_halves_once_per_block_to_c_channels():
    stack = ConvStack((8, 16, 32))
    assert stack(torch.randn(2, 1, 128, 128)).shape == (2, 32, 16, 16)
