import numpy as np
import pytest

from micro_expression.flow.error import end_point_error, end_point_error_map


def test_end_point_error_is_the_mean_vector_distance():
    truth = np.zeros((2, 2, 2))
    estimate = np.zeros((2, 2, 2))
    estimate[0, 0] = (3, 4)
    assert end_point_error_map(estimate, truth)[0, 0] == 5
    assert end_point_error(estimate, truth) == pytest.approx(5 / 4)


def test_mask_restricts_the_average():
    truth = np.zeros((2, 2, 2))
    estimate = np.ones((2, 2, 2))
    estimate[1] = 0
    mask = np.array([[True, True], [False, False]])
    assert end_point_error(estimate, truth, mask) == pytest.approx(np.sqrt(2))


def test_empty_mask_and_shape_mismatch_are_refused():
    with pytest.raises(ValueError, match="no pixel"):
        end_point_error(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="shapes differ"):
        end_point_error(np.zeros((2, 2, 2)), np.zeros((2, 3, 2)))
