import numpy as np
from skimage import data

from micro_expression.face.models import (
    frontal_face_detector,
    landmark_predictor,
    shape_predictor_path,
)


def test_shipped_predictor_finds_68_points_on_astronaut():
    assert shape_predictor_path().stat().st_size > 50_000_000
    image = np.ascontiguousarray(data.astronaut())
    faces = frontal_face_detector()(image, 0)
    assert len(faces) >= 1
    shape = landmark_predictor()(image, max(faces, key=lambda r: r.area()))
    assert shape.num_parts == 68
