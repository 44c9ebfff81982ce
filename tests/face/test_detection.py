import cv2
import numpy as np

from micro_expression.face.detection import (
    FaceBox,
    count_outside,
    detect_largest_face,
    predict_landmarks,
)
from tests.preprocessing.clips import CANVAS, GREY, astronaut_canvas


def gray(image):
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def test_finds_the_face_and_68_points_inside_it():
    image = gray(astronaut_canvas())
    box = detect_largest_face(image, (0,))
    assert box is not None and 70 < box.right - box.left < 110
    points = predict_landmarks(image, box)
    assert points.shape == (68, 2) and points.dtype == np.float32
    assert box.left - 10 < points[:, 0].mean() < box.right + 10
    assert count_outside(points, image.shape) == 0


def test_keeps_the_largest_of_two_faces():
    image = gray(astronaut_canvas(scale=1.0))
    small = gray(astronaut_canvas(dx=-200, dy=60, scale=0.6))[150:330, 100:260]
    image[300:480, 0:160] = small
    box = detect_largest_face(image, (1,))
    assert box.area == max(b.area for b in _all_faces(image, 1))
    assert box.left > 200  # the big face, not the pasted small one


def _all_faces(image, upsample):
    from micro_expression.face.models import frontal_face_detector

    faces = frontal_face_detector()(image, upsample)
    assert len(faces) >= 2
    return [FaceBox.from_dlib(f) for f in faces]


def test_small_face_needs_the_upsampling_retry():
    image = gray(astronaut_canvas(scale=0.5))
    assert detect_largest_face(image, (0,)) is None
    assert detect_largest_face(image, (0, 1)) is not None


def test_blank_image_has_no_face():
    assert detect_largest_face(np.full(CANVAS, GREY, np.uint8)) is None


def test_face_cut_at_the_border_puts_landmarks_outside():
    image = gray(astronaut_canvas(dx=-260))
    box = detect_largest_face(image)
    assert box is not None and box.left < 0
    assert count_outside(predict_landmarks(image, box), image.shape) > 0
