import cv2
import numpy as np

from micro_expression.face.detection import (
    FaceBox,
    count_outside,
    detect_face,
    predict_landmarks,
)
from micro_expression.face.models import frontal_face_detector
from tests.preprocessing.clips import CANVAS, GREY, astronaut_canvas


def gray(image):
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def test_finds_the_face_and_68_points_inside_it():
    image = gray(astronaut_canvas())
    box = detect_face(image, (0,))
    assert box is not None and 70 < box.right - box.left < 110
    points = predict_landmarks(image, box)
    assert points.shape == (68, 2) and points.dtype == np.float32
    assert box.left - 10 < points[:, 0].mean() < box.right + 10
    assert count_outside(points, image.shape) == 0


def test_keeps_the_most_confident_face_not_a_larger_false_positive():
    """Moved and tilted a little, the astronaut photo also yields a box on the suit's patch at the
    bottom edge, larger than the face but with a far lower score."""
    image = gray(astronaut_canvas(1.8, 0.9, angle=1.304))
    faces, scores, _ = frontal_face_detector().run(image, 0, 0.0)
    boxes = [FaceBox.from_dlib(face) for face in faces]
    assert len(boxes) == 2 and max(boxes, key=lambda b: b.area).top > 300
    box = detect_face(image, (0,))
    assert box == boxes[int(np.argmax(scores))] and box.top < 200


def test_small_face_needs_the_upsampling_retry():
    image = gray(astronaut_canvas(scale=0.5))
    assert detect_face(image, (0,)) is None
    assert detect_face(image, (0, 1)) is not None


def test_blank_image_has_no_face():
    assert detect_face(np.full(CANVAS, GREY, np.uint8)) is None


def test_face_cut_at_the_border_puts_landmarks_outside():
    image = gray(astronaut_canvas(dx=-260))
    box = detect_face(image)
    assert box is not None and box.left < 0
    assert count_outside(predict_landmarks(image, box), image.shape) > 0
