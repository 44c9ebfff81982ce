"""The reference variant's choices against the public MOL code (CYF-cuber/MOL at 0a75455):
parameter counts, initial weight distributions, layer geometry and batch-norm batching."""

import copy
import math

import pytest
import torch
from torch import nn

from micro_expression.model import PairF5C, build_mol, parameter_counts
from micro_expression.model.fcc import AxisPositionEmbedding, GlobalCircularConv
from micro_expression.model.flow_net import FlowNet
from micro_expression.model.landmark_head import LandmarkHead

REFERENCE = {
    "variant": "reference",
    "representation": "frames",
    "normalisation": "clip",
    "init": "reference",
    "flow_layers": "reference",
    "batch_norm": "per_pair",
    "landmark_output": "pixels",
}
"""Every model choice as `--env reference` makes it."""
UNUSED_FCC_WEIGHTS = 18_180
"""Parameters of the public code's two FCCs that never reach its output: the feed-forward
blocks (2 x 898) and the second 16 taps of the 32-long meta kernels and position embeddings
it crops to the 16 x 16 map (2 x 8,192)."""


@pytest.fixture(scope="module")
def paper_reference():
    torch.manual_seed(0)
    return build_mol("paper", n_classes=5, **REFERENCE)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_reference_parameter_counts_equal_the_public_code(paper_reference):
    model = paper_reference
    counts = parameter_counts(model)
    assert counts["conv_stack"] == 19_048
    assert _count(model.f5c.first.fcc) + _count(model.f5c.second.fcc) == 17_408
    assert _count(model.f5c.first.ccc) + _count(model.f5c.second.ccc) == 263_168
    assert counts["mer_head"] == 738_853  # 5 classes, as the code's default
    assert counts["landmark_head"] == 3_318_440
    assert counts["flow_net"] == 39_730_282
    assert counts["total"] + UNUSED_FCC_WEIGHTS == 44_105_379


def test_standard_flow_layers_add_762_688_encoder_weights_and_14_biases():
    standard = build_mol("paper", n_classes=5, **{**REFERENCE, "flow_layers": "standard"})
    assert parameter_counts(standard)["flow_net"] == 39_730_282 + 762_688 + 14


def test_reference_flow_layers_are_the_public_code_geometry(paper_reference):
    flow_net = paper_reference.flow_net
    convs = [stage[0] for stage in flow_net.encoder.stages]
    assert [c.kernel_size[0] for c in convs] == [6, 4, 2]
    assert [c.padding[0] for c in convs] == [2, 1, 0]
    predictions = [*flow_net.decoder.predict, flow_net.decoder.predict_final]
    assert len(predictions) == 7 and all(p.bias is None for p in predictions)
    standard = FlowNet(8, (4, 8, 16), 4, 8, (8, 8, 16), (8, 8, 8, 8, 4, 4))
    assert [s[0].kernel_size[0] for s in standard.encoder.stages] == [7, 5, 5]
    assert standard.decoder.predict_final.bias is not None
    with pytest.raises(ValueError, match="flow layers must be one of"):
        FlowNet(8, (4, 8, 16), 4, 8, (8, 8, 16), (8, 8, 8, 8, 4, 4), layers="flownet")


def _fcc_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """Position embeddings, circular-conv biases and kernels of every FCC, each concatenated."""
    parts = {"embedding": [], "bias": [], "kernel": []}
    for module in model.modules():
        if isinstance(module, AxisPositionEmbedding):
            parts["embedding"].append(module.embedding.flatten())
        elif isinstance(module, GlobalCircularConv):
            parts["bias"].append(module.bias.flatten())
            parts["kernel"].append(module.weight.flatten())
    return {name: torch.cat(values).detach() for name, values in parts.items()}


def test_reference_init_draws_fcc_weights_as_the_public_code(paper_reference):
    weights = _fcc_weights(paper_reference.f5c)
    assert weights["embedding"].numel() == 8_192 and weights["bias"].numel() == 512
    assert weights["embedding"].std().item() == pytest.approx(1.0, rel=0.05)  # randn
    assert weights["bias"].std().item() == pytest.approx(1.0, rel=0.15)  # randn
    bound = 1 / math.sqrt(32)  # a 32-long kernel's default bound, cropped to 16 taps
    kernel = weights["kernel"]
    assert kernel.abs().max().item() <= bound and kernel.abs().max().item() > 0.99 * bound
    assert kernel.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_standard_init_keeps_the_parc_defaults():
    torch.manual_seed(0)
    weights = _fcc_weights(build_mol("paper", n_classes=5, **{**REFERENCE, "init": "standard"}))
    assert weights["embedding"].std().item() == pytest.approx(0.02, rel=0.05)
    assert not weights["bias"].any()
    assert weights["kernel"].abs().max().item() > 1 / math.sqrt(32)  # bound 1/4 (16 taps)


def test_reference_init_draws_flow_net_convs_he_normal_for_leak_0_1(paper_reference):
    flow_net = paper_reference.flow_net
    convs = [m for m in flow_net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(c.bias is None for c in convs)
    checked = 0
    for conv in convs:
        weight = conv.weight.detach()
        if weight.numel() < 10_000:
            continue
        fan_in = weight[0].numel()  # nn.init's fan in: dim 1 and the kernel, for both kinds
        assert weight.std().item() == pytest.approx(
            math.sqrt(2 / (1 + 0.1**2) / fan_in), rel=0.05
        ), conv
        checked += 1
    assert checked >= 15
    norms = [m for m in flow_net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(bool((n.weight == 1).all() and (n.bias == 0).all()) for n in norms)


def test_standard_flow_net_init_is_about_2_4_times_narrower():
    torch.manual_seed(0)
    standard = build_mol("small", **{**REFERENCE, "init": "standard"}).flow_net.fuse[0].weight
    torch.manual_seed(0)
    reference = build_mol("small", **REFERENCE).flow_net.fuse[0].weight
    ratio = reference.std().item() / standard.std().item()
    assert ratio == pytest.approx(math.sqrt(2 / 1.01) * math.sqrt(3), rel=0.05)  # 2.44


def test_pixel_landmark_output_is_the_raw_regression():
    head = LandmarkHead(16, 16, conv_channels=4, hidden=32, image_size=128, output="pixels")
    with torch.no_grad():
        head.layers[-1].weight.zero_()
        head.layers[-1].bias.fill_(3.0)
    assert torch.all(head(torch.randn(2, 16, 16, 16)) == 3.0)
    with pytest.raises(ValueError, match="landmark output must be one of"):
        LandmarkHead(16, 16, 4, 32, 128, output="normalized")


def _norms(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _assert_same_running_stats(got: nn.Module, want: nn.Module) -> None:
    for mine, theirs in zip(_norms(got), _norms(want), strict=True):
        assert mine.num_batches_tracked == theirs.num_batches_tracked
        torch.testing.assert_close(mine.running_mean, theirs.running_mean)
        torch.testing.assert_close(mine.running_var, theirs.running_var)


def test_per_pair_f5c_running_stats_are_seven_sequential_updates():
    torch.manual_seed(0)
    maps = torch.randn(3, 8, 8, 4, 4)
    per_pair = PairF5C(8, 4, k=2, graph="reference", weights="separate", batch_norm="per_pair")
    sequential = copy.deepcopy(per_pair)
    first, second = per_pair.train()(maps)
    sequential.train()
    for i in range(7):  # the public code's loop: FCC_1 on frame i, FCC_2 on frame i + 1
        torch.testing.assert_close(first[:, i], sequential.first(maps[:, i]))
        torch.testing.assert_close(second[:, i], sequential.second(maps[:, i + 1]))
    _assert_same_running_stats(per_pair, sequential)
    assert all(n.num_batches_tracked == 7 for n in _norms(per_pair))
    batched = copy.deepcopy(sequential)
    batched.per_pair = False
    batched(maps)
    assert all(n.num_batches_tracked == 8 for n in _norms(batched))  # one more update


def test_per_pair_flow_net_encodes_each_pair_frame_after_frame():
    torch.manual_seed(0)
    flow_net = FlowNet(8, (4, 8, 16), 4, 8, (8, 8, 16), (8, 8, 8, 8, 4, 4), batch_norm="per_pair")
    sequential = copy.deepcopy(flow_net).train()
    frames = torch.randn(2, 4, 128, 128)
    features = torch.randn(2, 3, 8, 16, 16), torch.randn(2, 3, 8, 16, 16)
    flow = flow_net.train()(frames, *features)
    for i in range(3):  # encoder on frame i, then on frame i + 1; the rest once per pair
        encoded = sequential.encoder(frames[:, i, None])
        encoded_next = sequential.encoder(frames[:, i + 1, None])[-1]
        pair = sequential.pair_flow(
            frames[:, i, None], encoded, encoded_next, features[0][:, i], features[1][:, i]
        )
        torch.testing.assert_close(flow[:, i], pair)
    _assert_same_running_stats(flow_net, sequential)
    assert all(n.num_batches_tracked == 6 for n in _norms(flow_net.encoder))
    assert all(n.num_batches_tracked == 3 for n in _norms(flow_net.fuse))


def test_per_pair_batch_norm_changes_training_statistics_only():
    torch.manual_seed(0)
    per_pair = build_mol("small", **REFERENCE)
    batched = build_mol("small", **{**REFERENCE, "batch_norm": "batched"})
    batched.load_state_dict(per_pair.state_dict())
    frames = 255 * torch.rand(2, 8, 128, 128)
    with torch.no_grad():
        for got, want in zip(per_pair.eval()(frames), batched.eval()(frames)):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
        per_pair.train()(frames)
    assert all(n.num_batches_tracked == 7 for n in _norms(per_pair.f5c))
    assert all(n.num_batches_tracked == 14 for n in _norms(per_pair.flow_net.encoder))
    assert all(n.num_batches_tracked == 7 for n in _norms(per_pair.flow_net.down))
