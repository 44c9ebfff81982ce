import pytest
import torch

from micro_expression.model.landmark_head import LandmarkHead
from micro_expression.model.mer_head import MERHead


def test_landmark_head_gives_68_points_in_pixels():
    head = LandmarkHead(16, 16, conv_channels=4, hidden=32, image_size=128)
    with torch.no_grad():
        head.layers[-1].weight.zero_()
        head.layers[-1].bias.zero_()
    points = head(torch.randn(5, 16, 16, 16))
    assert points.shape == (5, 68, 2)
    assert torch.all(points == 64.0)  # a zero normalised prediction is the frame centre


def test_mer_head_gives_class_logits_from_14_maps():
    head = MERHead(16, 16, n_maps=14, conv_channels=4, hidden=8, n_classes=5)
    assert head(torch.randn(3, 14, 16, 16, 16)).shape == (3, 5)


def test_mer_head_rejects_too_few_maps():
    with pytest.raises(ValueError, match="needs >= 6 maps"):
        MERHead(16, 16, n_maps=4, conv_channels=4, hidden=8, n_classes=3)


def test_mer_head_without_norm_is_the_reference_layout():
    plain = MERHead(16, 16, n_maps=14, conv_channels=4, hidden=8, n_classes=3, normalised=False)
    layers = [type(m).__name__ for m in plain.features]
    assert layers == ["Conv3d", "MaxPool3d"]
    normalised = MERHead(16, 16, n_maps=14, conv_channels=4, hidden=8, n_classes=3)
    assert [type(m).__name__ for m in normalised.features] == [
        "Conv3d", "BatchNorm3d", "ReLU", "MaxPool3d"
    ]
    assert plain(torch.randn(2, 14, 16, 16, 16)).shape == (2, 3)
