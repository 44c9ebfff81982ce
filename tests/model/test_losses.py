import math

import pytest
import torch

from micro_expression.model.losses import LossWeights, inter_ocular_distance, mol_loss
from micro_expression.model.mol import MOLOutput


def _landmarks_with_eyes_20_px_apart() -> torch.Tensor:
    points = torch.rand(1, 7, 68, 2) * 100
    offsets = torch.tensor([[-3.0, 0], [3, 0], [0, -1], [0, 1], [-1, 1], [1, -1]])
    points[:, :, 36:42] = torch.tensor([10.0, 20.0]) + offsets  # centroid (10, 20)
    points[:, :, 42:48] = torch.tensor([30.0, 20.0]) + offsets  # centroid (30, 20)
    return points


def _example():
    logits = torch.tensor([[2.0, 0.0, 0.0]])
    flow_target = torch.zeros(1, 7, 2, 4, 4)
    flow_target[0, 0, 0] = 2.0  # one pair, x channel: squared error 4 on 1/14 of the elements
    landmarks = _landmarks_with_eyes_20_px_apart()
    predicted = landmarks.clone()
    predicted[..., 0] += 2.0  # x off by 2 px, y exact: mean |error| 1 px = 0.05 IOD
    output = MOLOutput(logits, torch.zeros_like(flow_target), predicted)
    targets = {"labels": torch.tensor([0]), "flow": flow_target, "landmarks": landmarks}
    return output, targets


def test_inter_ocular_distance_uses_eye_centroids():
    torch.testing.assert_close(
        inter_ocular_distance(_landmarks_with_eyes_20_px_apart()), torch.full((1, 7), 20.0)
    )


def test_mol_loss_matches_hand_computed_values():
    output, targets = _example()
    terms = mol_loss(output, targets, LossWeights(mer=1.0, flow=10.0, landmarks=0.5))
    expected = {"mer": math.log(1 + 2 * math.exp(-2)), "flow": 4 / 14, "landmarks": 0.05}
    for name, value in expected.items():
        assert terms[name].item() == pytest.approx(value, rel=1e-5)
    total = expected["mer"] + 10 * expected["flow"] + 0.5 * expected["landmarks"]
    assert terms["total"].item() == pytest.approx(total, rel=1e-5)


def test_default_weights_and_mapping_weights():
    output, targets = _example()
    default = mol_loss(output, targets)
    assert default["total"].item() == pytest.approx(
        default["mer"].item() + 10 * default["flow"].item() + 0.5 * default["landmarks"].item()
    )
    terms = mol_loss(output, targets, {"flow": 0.0, "landmarks": 0.1})
    assert set(terms) == {"mer", "landmarks", "total"}
    assert terms["total"].item() == pytest.approx(terms["mer"].item() + 0.1 * 0.05, rel=1e-5)


def test_absent_heads_drop_their_terms_and_need_no_targets():
    output, targets = _example()
    terms = mol_loss(output._replace(flow=None, landmarks=None), {"labels": targets["labels"]})
    assert set(terms) == {"mer", "total"}


def test_degenerate_eye_distance_is_floored():
    output, targets = _example()
    targets["landmarks"] = torch.zeros(1, 7, 68, 2)
    output = output._replace(landmarks=torch.ones(1, 7, 68, 2))
    assert mol_loss(output, targets)["landmarks"].item() == pytest.approx(1.0)


def test_mol_loss_rejects_missing_or_misshaped_targets():
    output, targets = _example()
    with pytest.raises(KeyError, match="targets\\['flow'\\]"):
        mol_loss(output, {"labels": targets["labels"], "landmarks": targets["landmarks"]})
    with pytest.raises(ValueError, match="targets\\['landmarks'\\] has shape \\(1, 7, 68\\)"):
        mol_loss(output, {**targets, "landmarks": targets["landmarks"][..., 0]})
    with pytest.raises(ValueError, match="no loss term left"):
        mol_loss(output, targets, LossWeights(mer=0.0, flow=0.0, landmarks=0.0))
