import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

from micro_expression.evaluation.metrics import confusion_matrix, flow_epe, landmark_nme, scores


def sklearn_scores(y_true, y_pred):
    present = np.unique(y_true)
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "uf1": f1_score(y_true, y_pred, labels=present, average="macro"),
        "uar": recall_score(y_true, y_pred, labels=present, average="macro"),
        "wf1": f1_score(y_true, y_pred, average="weighted", zero_division=0.0),
    }


@pytest.mark.parametrize("seed", range(5))
def test_scores_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 5, 40), rng.integers(0, 5, 40)
    matrix = confusion_matrix(y_true, y_pred, 5)
    np.testing.assert_array_equal(matrix, sklearn_confusion_matrix(y_true, y_pred, labels=range(5)))
    assert scores(matrix) == pytest.approx(sklearn_scores(y_true, y_pred))


def test_classes_absent_from_the_truth_do_not_count_in_the_averages():
    # Class 2 never occurs but is predicted once; class 1 is never predicted.
    y_true = np.array([0, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 2, 0, 0])
    result = scores(confusion_matrix(y_true, y_pred, 3))
    assert result == pytest.approx(sklearn_scores(y_true, y_pred))
    assert result["uar"] == pytest.approx((2 / 3 + 0) / 2)


def test_an_empty_matrix_has_no_scores():
    assert all(np.isnan(v) for v in scores(np.zeros((3, 3))).values())


def test_confusion_matrix_rejects_unknown_classes():
    with pytest.raises(ValueError, match=r"class ids \[3\] outside \[0, 3\)"):
        confusion_matrix([0, 3], [0, 1], 3)


def test_flow_epe_is_the_mean_vector_distance_in_the_model_layout():
    target = np.zeros((2, 7, 2, 4, 4))
    predicted = target.copy()
    predicted[0, :, 0] = 3.0  # x
    predicted[0, :, 1] = 4.0  # y
    predicted[1, 0, 1, 0, 0] = 112.0  # one pixel of one pair: 112 px over 7 x 16 pixels
    np.testing.assert_allclose(flow_epe(predicted, target), [5.0, 1.0])


def test_landmark_nme_divides_by_the_inter_ocular_distance():
    target = np.zeros((1, 7, 68, 2))
    target[..., 42:48, 0] = 40.0  # eye centroids 40 px apart
    predicted = target + np.array([3.0, 4.0])
    np.testing.assert_allclose(landmark_nme(predicted, target), [5.0 / 40.0])
