import pytest
import torch

from micro_expression.model import build_model, input_key
from micro_expression.model.flow_baseline import (
    ApexFlowEncoding,
    FlowBaseline,
    STSTNet,
    optical_strain,
)


def test_strain_of_a_translation_is_zero_and_of_a_stretch_its_rate():
    ys, xs = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    translation = torch.stack([torch.full_like(xs, 1.5), torch.full_like(ys, -0.5)]).unsqueeze(0)
    assert optical_strain(translation).max() < 1e-5
    stretch = torch.stack([0.1 * xs, torch.zeros_like(ys)]).unsqueeze(0)  # u_x = 0.1
    torch.testing.assert_close(optical_strain(stretch), torch.full((1, 1, 16, 16), 0.1))


def test_encoding_gives_three_28px_maps_whatever_the_amplitude():
    torch.manual_seed(0)
    flow = torch.randn(2, 2, 128, 128)
    encoded = ApexFlowEncoding()(flow)
    assert encoded.shape == (2, 3, 28, 28)
    torch.testing.assert_close(ApexFlowEncoding()(5 * flow), encoded, rtol=1e-4, atol=1e-5)


def test_ststnet_shapes_and_size():
    network = STSTNet(n_classes=3)
    assert network(torch.randn(4, 3, 28, 28)).shape == (4, 3)
    assert network.classifier[-1].in_features == 16 * 5 * 5  # 3 + 5 + 8 streams on 5x5


def test_flow_baseline_returns_logits_only():
    model = FlowBaseline(n_classes=5).eval()
    flow = torch.randn(2, 2, 128, 128)
    output = model(flow)
    assert output.logits.shape == (2, 5)
    assert output.flow is None and output.landmarks is None
    with torch.no_grad():
        assert torch.equal(model.classify(flow), model(flow).logits)


def test_flow_baseline_rejects_frames():
    with pytest.raises(ValueError, match=r"apex flow of shape \(B, 2, S, S\), got \(2, 8, 128"):
        FlowBaseline()(torch.randn(2, 8, 128, 128))


def test_build_model_by_name():
    assert isinstance(build_model("flow_baseline", n_classes=3), FlowBaseline)
    assert input_key("flow_baseline") == "apex_flow" and input_key("mol") == "frames"
    with pytest.raises(ValueError, match=r"unknown model 'htnet'; valid models: \['mol'"):
        build_model("htnet")
