import math

import pytest
import torch

from micro_expression.model.losses import (
    LossReduction,
    LossWeights,
    flow_loss,
    inter_ocular_distance,
    landmark_loss,
    mol_loss,
)
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


def _reference_landmark_loss(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """The public code's landmark term (train.py:43-53) written out: landmarks as 136
    interleaved (x, y) values, an L1 sum per frame and sample over the pupil distance, summed
    over the 7 frames and the batch, divided by B * 68."""
    batch = predicted.shape[0]
    total = 0.0
    for frame in range(predicted.shape[1]):
        for sample in range(batch):
            truth = target[sample, frame].reshape(136).tolist()
            guess = predicted[sample, frame].reshape(136).tolist()
            left = [sum(truth[2 * i + axis] for i in range(36, 42)) / 6 for axis in (0, 1)]
            right = [sum(truth[2 * i + axis] for i in range(42, 48)) / 6 for axis in (0, 1)]
            pupils = math.dist(left, right)
            total += sum(abs(a - b) for a, b in zip(truth, guess)) / pupils
    return total / (batch * 68)


def test_reference_landmark_reduction_is_the_public_code_formula():
    torch.manual_seed(0)
    target = torch.cat([_landmarks_with_eyes_20_px_apart()] * 2)
    predicted = target.clone()
    predicted[0, ..., 0] += 2.0  # sample 0: x off by 2 px: 136 px per frame, 6.8 IOD
    predicted[1, ..., 1] -= 4.0  # sample 1: y off by 4 px: 272 px per frame, 13.6 IOD
    reference = landmark_loss(predicted, target, "reference").item()
    assert reference == pytest.approx(7 * (6.8 + 13.6) / (2 * 68), rel=1e-5)
    assert reference == pytest.approx(_reference_landmark_loss(predicted, target), rel=1e-5)
    mean = landmark_loss(predicted, target).item()
    assert mean == pytest.approx((0.05 + 0.1) / 2, rel=1e-5)  # mean |error| 1 and 2 px, over 20
    random = target + torch.randn_like(target)
    assert landmark_loss(random, target, "reference").item() == pytest.approx(
        _reference_landmark_loss(random, target), rel=1e-5
    )
    assert landmark_loss(random, target, "reference").item() == pytest.approx(
        14 * landmark_loss(random, target).item(), rel=1e-5
    )


def test_reference_flow_reduction_divides_the_mean_by_the_pairs_again():
    output, targets = _example()
    assert flow_loss(output.flow, targets["flow"], "reference").item() == pytest.approx(
        4 / 14 / 7, rel=1e-5
    )
    terms = mol_loss(output, targets, reduction={"flow": "reference", "landmarks": "reference"})
    assert terms["flow"].item() == pytest.approx(4 / 14 / 7, rel=1e-5)
    assert terms["landmarks"].item() == pytest.approx(14 * 0.05, rel=1e-5)
    assert terms["total"].item() == pytest.approx(
        terms["mer"].item() + 10 * 4 / 98 + 0.5 * 0.7, rel=1e-5
    )


def test_unknown_reduction_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"landmarks must be one of \['mean', 'reference'\]"):
        LossReduction(landmarks="sum")
