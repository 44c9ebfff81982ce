import cv2
import numpy as np
import pytest

from micro_expression.face.alignment import (
    eye_centres,
    five_point_similarity,
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


def reference_align_matrix(points: np.ndarray, box_enlarge: float, img_size: int) -> np.ndarray:
    """The public MOL code's ``align_face`` matrix (utils/align_face.py at 0a75455), step by
    step as it computes it: rotation ``mat1``, the five points' box, then ``mat3 * mat1``."""
    land = np.asarray(points, dtype=np.float64).reshape(136)  # dlib gives integer pixels
    left = np.array([land[2 * k] for k in range(36, 42)]).sum() / 6.0, \
        np.array([land[2 * k + 1] for k in range(36, 42)]).sum() / 6.0
    right = np.array([land[2 * k] for k in range(42, 48)]).sum() / 6.0, \
        np.array([land[2 * k + 1] for k in range(42, 48)]).sum() / 6.0
    delta_x, delta_y = right[0] - left[0], right[1] - left[1]
    length = np.sqrt(delta_x * delta_x + delta_y * delta_y)
    sin, cos = delta_y / length, delta_x / length
    mat1 = np.array([[cos, sin, 0], [-sin, cos, 0], [0, 0, 1]])
    mat2 = np.array([[left[0], left[1], 1], [right[0], right[1], 1],
                     [land[60], land[61], 1], [land[96], land[97], 1], [land[108], land[109], 1]])
    mat2 = (mat1 @ mat2.T).T
    cx = (mat2[:, 0].max() + mat2[:, 0].min()) * 0.5
    cy = (mat2[:, 1].max() + mat2[:, 1].min()) * 0.5
    width, height = mat2[:, 0].max() - mat2[:, 0].min(), mat2[:, 1].max() - mat2[:, 1].min()
    half = 0.5 * box_enlarge * (width if width > height else height)
    scale = (img_size - 1) / 2.0 / half
    mat3 = np.array([[scale, 0, scale * (half - cx)], [0, scale, scale * (half - cy)], [0, 0, 1]])
    return (mat3 @ mat1)[:2]


def test_the_five_point_crop_is_the_public_codes_alignment(tilted):
    image, points, _ = tilted
    transform = five_point_similarity(points, 144)
    np.testing.assert_allclose(transform, reference_align_matrix(points, 2.5, 144), rtol=1e-12)
    crop = warp_to_crop(image, transform, 144, border=128)
    expected = cv2.warpAffine(image, reference_align_matrix(points, 2.5, 144), (144, 144),
                              borderValue=(128, 128, 128))
    np.testing.assert_array_equal(crop, expected)
    # Outside the frame the public code's crop is grey, the standard one repeats the edge.
    ramp = np.tile(np.arange(10, 74, dtype=np.uint8), (64, 1))
    shifted = np.array([[1.0, 0.0, 20.0], [0.0, 1.0, 0.0]])  # the frame starts at crop x 20
    assert (warp_to_crop(ramp, shifted, 64, border=128)[:, :19] == 128).all()
    assert (warp_to_crop(ramp, shifted, 64)[:, :19] == 10).all()
