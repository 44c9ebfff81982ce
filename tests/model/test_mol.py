import dataclasses

import pytest
import torch

from micro_expression.model import (
    PRESETS,
    MOLWidths,
    PairF5C,
    ReferenceConvStack,
    build_mol,
    get_preset,
    mol_loss,
    parameter_counts,
)


def _targets(batch: int, n_classes: int = 3) -> dict[str, torch.Tensor]:
    return {
        "labels": torch.arange(batch) % n_classes,
        "flow": torch.randn(batch, 7, 2, 128, 128),
        "landmarks": 128 * torch.rand(batch, 7, 68, 2),
    }


@pytest.mark.parametrize("graph", ["channel", "spatial", "reference"])
def test_small_mol_output_shapes(graph):
    torch.manual_seed(0)
    output = build_mol("small", n_classes=5, graph=graph)(torch.randn(2, 8, 128, 128))
    assert output.logits.shape == (2, 5)
    assert output.flow.shape == (2, 7, 2, 128, 128)
    assert output.landmarks.shape == (2, 7, 68, 2)


@pytest.mark.parametrize(
    ("preset", "total", "flow"),
    [("paper", (42e6, 46e6), (38e6, 42e6)), ("small", (2e5, 2e6), (1e5, 1e6))],
)
def test_preset_parameter_counts(preset, total, flow):
    counts = parameter_counts(build_mol(preset))
    # Shown with `pytest -s`.
    print(f"\n{preset}: {counts}")  # noqa: T201
    assert total[0] < counts["total"] < total[1]
    assert flow[0] < counts["flow_net"] < flow[1]
    assert counts["total"] == sum(v for k, v in counts.items() if k != "total")


def test_paper_mol_forward_batch_one():
    torch.manual_seed(0)
    model = build_mol("paper").eval()
    with torch.no_grad():
        output = model(torch.randn(1, 8, 128, 128))
    assert output.flow.shape == (1, 7, 2, 128, 128) and output.landmarks.shape == (1, 7, 68, 2)
    assert torch.isfinite(output.flow).all()


def test_total_loss_reaches_every_parameter():
    torch.manual_seed(0)
    model = build_mol("small")
    mol_loss(model(torch.randn(1, 8, 128, 128)), _targets(1))["total"].backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    zero = [name for name, g in grads.items() if not g.any()]
    assert len(zero) <= 0.02 * len(grads), zero


@pytest.mark.parametrize(
    ("with_flow", "with_landmarks"), [(False, True), (True, False), (False, False)]
)
def test_switched_off_heads_are_absent(with_flow, with_landmarks):
    torch.manual_seed(0)
    model = build_mol("small", with_flow=with_flow, with_landmarks=with_landmarks)
    assert (model.flow_net is not None) == with_flow
    assert (model.landmark_head is not None) == with_landmarks
    counts = parameter_counts(model)
    assert (counts["flow_net"] > 0) == with_flow and (counts["landmark_head"] > 0) == with_landmarks
    output = model(torch.randn(1, 8, 128, 128))
    assert (output.flow is not None) == with_flow
    assert (output.landmarks is not None) == with_landmarks
    terms = mol_loss(output, _targets(1))
    assert ("flow" in terms) == with_flow and ("landmarks" in terms) == with_landmarks
    terms["total"].backward()


def test_mol_rejects_wrong_frame_shape():
    with pytest.raises(ValueError, match=r"\(B, 8, 128, 128\), got \(2, 7, 128, 128\)"):
        build_mol("small")(torch.randn(2, 7, 128, 128))
    with pytest.raises(ValueError, match=r"\(B, 8, 128, 128\), got \(2, 7, 128, 128\)"):
        build_mol("small").classify(torch.randn(2, 7, 128, 128))


@pytest.mark.parametrize("variant", ["standard", "reference"])
def test_classifying_gives_the_logits_of_the_full_forward_without_the_other_heads(variant):
    torch.manual_seed(0)
    model = build_mol("small", variant=variant).eval()
    frames = torch.randn(2, 8, 128, 128)
    calls = []
    for head in (model.flow_net, model.landmark_head):
        head.register_forward_hook(lambda module, inputs, output: calls.append(module))
    with torch.no_grad():
        logits = model.classify(frames)
        assert calls == []
        assert torch.equal(logits, model(frames).logits)


def test_unknown_preset_lists_valid_ones():
    with pytest.raises(ValueError, match=r"preset 'huge'; valid presets: \['paper', 'small'\]"):
        build_mol("huge")


def test_widths_must_downsample_consistently():
    paper = get_preset("paper")
    with pytest.raises(ValueError, match="same length"):
        dataclasses.replace(paper, flow_encoder=(64, 128))
    with pytest.raises(ValueError, match="flow_decoder needs 6 widths"):
        dataclasses.replace(paper, flow_decoder=(64, 32))


def test_presets_share_one_structure():
    assert set(PRESETS) == {"paper", "small"}
    assert all(isinstance(widths, MOLWidths) for widths in PRESETS.values())
    assert {w.feature_size for w in PRESETS.values()} == {16}


def test_channels_last_weights_give_the_same_output():
    torch.manual_seed(0)
    model = build_mol("small").eval()
    frames = torch.randn(1, 8, 128, 128)
    with torch.no_grad():
        expected = model(frames)
        output = model.to_channels_last()(frames)
    assert model.flow_net.fuse[0].weight.is_contiguous(memory_format=torch.channels_last)
    for got, want in zip(output, expected):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_reference_variant_has_the_public_code_modules():
    model = build_mol("paper", variant="reference", representation="frames",
                      normalisation="clip")
    assert isinstance(model.conv_stack, ReferenceConvStack)
    widths = [m.out_channels for m in model.conv_stack.blocks]
    assert widths == [8, 32, 64, 128]  # the code's 1 -> 8 -> 32 -> 64 -> 128
    assert [m.kernel_size[0] for m in model.conv_stack.blocks] == [4, 3, 2, 1]
    assert model.f5c.second is not None  # FCC_2 / CCC_2
    assert model.f5c.first.ccc.graph == "reference"
    assert [type(m).__name__ for m in model.mer_head.features] == ["Conv3d", "MaxPool3d"]
    output = model.eval()(255 * torch.rand(1, 8, 128, 128))
    assert output.logits.shape == (1, 3) and output.flow.shape == (1, 7, 2, 128, 128)


def test_reference_conv_stack_maps_128_to_16():
    stack = ReferenceConvStack((2, 8, 16, 32))
    assert stack(torch.randn(3, 1, 128, 128)).shape == (3, 32, 16, 16)
    with pytest.raises(ValueError, match="needs 4 widths"):
        ReferenceConvStack((8, 16, 32))


def test_shared_pair_weights_give_a_frame_the_same_features_in_both_pairs():
    torch.manual_seed(0)
    maps = torch.randn(2, 5, 8, 4, 4)
    shared = PairF5C(8, 4, k=2).eval()
    first, second = shared(maps)
    assert first.shape == second.shape == (2, 4, 8, 4, 4)
    torch.testing.assert_close(first[:, 1:], second[:, :-1])
    separate = PairF5C(8, 4, k=2, weights="separate").eval()
    first, second = separate(maps)
    assert not torch.allclose(first[:, 1:], second[:, :-1])


def test_input_representation_sets_the_stack_input_channels():
    two = build_mol("small", with_flow=False, with_landmarks=False)
    one = build_mol("small", representation="frames", with_flow=False, with_landmarks=False)
    assert two.conv_stack.blocks[0][0].in_channels == 2
    assert one.conv_stack.blocks[0][0].in_channels == 1


def test_unknown_variant_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"variant must be one of \('standard', 'reference'\)"):
        build_mol("small", variant="faithful")
