"""Largest-face detection and 68-point landmarks with dlib, on grayscale images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dlib
import numpy as np

from micro_expression.face.models import frontal_face_detector, landmark_predictor

N_LANDMARKS = 68


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in image pixels (dlib convention: right and bottom inclusive)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def area(self) -> int:
        return (self.right - self.left + 1) * (self.bottom - self.top + 1)

    def to_dlib(self) -> dlib.rectangle:
        return dlib.rectangle(self.left, self.top, self.right, self.bottom)

    @classmethod
    def from_dlib(cls, rect: dlib.rectangle) -> FaceBox:
        return cls(rect.left(), rect.top(), rect.right(), rect.bottom())


def detect_face(gray: np.ndarray, upsample_levels: Sequence[int] = (0, 1)) -> FaceBox | None:
    """The most confident face found at the first upsampling level that finds any; None if
    none does.

    Confidence, not size, picks among several: on the astronaut photo the HOG detector
    sometimes fires on the suit's patch with a box larger than the face but a score ten
    times lower.
    """
    image = np.ascontiguousarray(gray, dtype=np.uint8)
    detector = frontal_face_detector()
    for level in upsample_levels:
        faces, scores, _ = detector.run(image, int(level), 0.0)
        if len(faces):
            return FaceBox.from_dlib(faces[int(np.argmax(scores))])
    return None


def predict_landmarks(gray: np.ndarray, box: FaceBox) -> np.ndarray:
    """The 68 dlib landmarks inside ``box`` as a new (68, 2) float32 array of (x, y) pixels."""
    shape = landmark_predictor()(np.ascontiguousarray(gray, dtype=np.uint8), box.to_dlib())
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def count_outside(landmarks: np.ndarray, image_shape: tuple[int, ...]) -> int:
    """How many points lie outside an image of ``image_shape`` (rows, cols, ...)."""
    height, width = image_shape[:2]
    x, y = landmarks[..., 0], landmarks[..., 1]
    return int(np.count_nonzero((x < 0) | (y < 0) | (x > width - 1) | (y > height - 1)))
