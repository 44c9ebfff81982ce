import cv2
import numpy as np
import pytest

from micro_expression.face.alignment import (
    eye_centres,
    inter_ocular_distance,
    similarity_to_crop,
    transform_points,
    transform_vectors,
    warp_to_crop,
)
from micro_expression.face.detection import detect_face, predict_landmarks
from tests.preprocessing.clips import astronaut_canvas


@pytest.fixture(scope="module")
def tilted():
    """The astronaut rotated by 12 degrees, its landmarks and its alignment to a 144 crop."""
    image = cv2.cvtColor(astronaut_canvas(angle=12.0), cv2.COLOR_BGR2GRAY)
    points = predict_landmarks(image, detect_face(image))
    return image, points, similarity_to_crop(points, 144, 0.1)


def test_transform_is_a_similarity_that_levels_the_eyes(tilted):
    image, points, transform = tilted
    left, right = eye_centres(points)
    assert abs(np.degrees(np.arctan2(*(right - left)[::-1]))) > 8  # tilted before
    linear = transform[:, :2]
    assert np.allclose(linear @ linear.T, np.eye(2) * np.linalg.det(linear))
    left, right = eye_centres(transform_points(points, transform))
    assert abs(left[1] - right[1]) < 1e-6 and right[0] > left[0]


def test_face_is_centred_and_fills_the_crop(tilted):
    _, points, transform = tilted
    mapped = transform_points(points, transform)
    assert mapped.min() > 0 and mapped.max() < 143
    low, high = mapped.min(axis=0), mapped.max(axis=0)
    assert np.all(high - low > 0.5 * 144)
    assert np.allclose((low + high) / 2, 71.5, atol=20)


def test_eyes_are_level_in_the_warped_crop(tilted):
    """Landmarks found again on the crop image: level eyes, where the mapping put them."""
    image, points, transform = tilted
    crop = warp_to_crop(image, transform, 144)
    found = predict_landmarks(crop, detect_face(crop))
    left, right = eye_centres(found)
    assert abs(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0]))) < 2.0
    error = np.linalg.norm(found - transform_points(points, transform), axis=1).mean()
    assert error < 0.05 * inter_ocular_distance(found)


def test_a_marked_image_point_lands_on_its_mapped_crop_pixel():
    transform = similarity_to_crop(_toy_landmarks(angle=0.3), 144, 0.1)
    image = np.zeros((480, 640), np.uint8)
    image[200:203, 300:303] = 255  # a 3x3 dot centred on (301, 201)
    crop = warp_to_crop(image, transform, 144)
    blurred = cv2.GaussianBlur(crop.astype(np.float32), (0, 0), 2)
    y, x = np.unravel_index(np.argmax(blurred), crop.shape)
    expected = transform_points(np.array([301.0, 201.0]), transform)
    assert np.hypot(x - expected[0], y - expected[1]) <= 1.0


def test_transform_points_returns_new_arrays():
    points = _toy_landmarks()
    before = points.copy()
    transform = similarity_to_crop(points)
    mapped = transform_points(points, transform)
    mapped += 1
    assert np.array_equal(points, before)
    assert np.allclose(transform_vectors(np.array([1.0, 0.0]), transform), transform[:, 0])


def test_coinciding_eyes_are_refused():
    with pytest.raises(ValueError, match="eye centroids coincide"):
        similarity_to_crop(np.zeros((68, 2)))


def _toy_landmarks(angle: float = 0.0) -> np.ndarray:
    """68 points with eyes, nose tip and mouth corners at plausible places around (300, 200)."""
    points = np.tile([300.0, 200.0], (68, 1))
    points[36:42] = (270, 180)
    points[42:48] = (330, 180)
    points[30] = (300, 215)
    points[48], points[54] = (275, 245), (325, 245)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (points - (300, 200)) @ rotation.T + (300, 200)
