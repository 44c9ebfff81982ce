import numpy as np

from micro_expression.flow.colour import flow_to_colour


def test_no_motion_is_black_and_full_magnitude_is_bright():
    flow = np.zeros((4, 4, 2), np.float32)
    flow[0, 0] = (2.0, 0.0)
    image = flow_to_colour(flow, max_magnitude=2.0)
    assert image.shape == (4, 4, 3) and image.dtype == np.uint8
    assert image[1, 1].max() == 0
    assert image[0, 0].max() == 255


def test_direction_sets_the_hue():
    flow = np.zeros((1, 4, 2), np.float32)
    flow[0] = [(1, 0), (0, 1), (-1, 0), (0, -1)]
    colours = {tuple(c) for c in flow_to_colour(flow)[0]}
    assert len(colours) == 4


def test_shared_scale_dims_the_smaller_flow():
    small = np.full((2, 2, 2), 0.5, np.float32)
    assert flow_to_colour(small, max_magnitude=2.0).max() < flow_to_colour(small).max()
