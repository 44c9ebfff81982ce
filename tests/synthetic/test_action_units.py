import numpy as np
import pytest

from micro_expression.synthetic.action_units import (
    ACTION_UNITS,
    EMOTION_ACTION_UNITS,
    action_unit_bumps,
    face_frame,
)
from micro_expression.synthetic.face import base_face
from micro_expression.synthetic.motion import envelope


@pytest.fixture(scope="module")
def landmarks():
    return base_face().landmarks


def _field_at(landmarks, units, points):
    strengths = dict.fromkeys(units, 1.0)
    bumps = action_unit_bumps(landmarks, strengths, 2.0, (1.0, 1.0), np.random.default_rng(0))
    return bumps.displacement(landmarks[list(points)])


def test_emotions_use_disjoint_known_action_units():
    used = [unit for units in EMOTION_ACTION_UNITS.values() for unit in units]
    assert len(used) == len(set(used)) and set(used) <= set(ACTION_UNITS)


def test_surprise_raises_the_brows_and_leaves_the_mouth(landmarks):
    _, _, up, _ = face_frame(landmarks)
    brows = _field_at(landmarks, EMOTION_ACTION_UNITS["surprise"], range(17, 27))
    assert (brows @ up > 0).all() and (brows @ up).mean() > 0.5
    mouth = _field_at(landmarks, EMOTION_ACTION_UNITS["surprise"], range(48, 68))
    np.testing.assert_array_equal(mouth, 0)


def test_happiness_pulls_lip_corners_up_and_out(landmarks):
    midline, right, up, _ = face_frame(landmarks)
    corners = _field_at(landmarks, (12,), (48, 54))
    assert (corners @ up > 0.5).all()
    outward = np.sign((landmarks[[48, 54]] - midline) @ right)
    assert (outward * (corners @ right) > 0.5).all()


def test_negative_units_lower_brows_and_lip_corners(landmarks):
    _, _, up, _ = face_frame(landmarks)
    assert (_field_at(landmarks, (4,), (20, 23)) @ up < -0.5).all()
    assert (_field_at(landmarks, (15,), (48, 54)) @ up < -0.5).all()


def test_field_peak_and_compact_support(landmarks):
    bumps = action_unit_bumps(landmarks, {12: 1.0}, 2.0, (1.0, 0.5), np.random.default_rng(0))
    assert np.linalg.norm(bumps.vectors, axis=1).max() == pytest.approx(2.0)
    assert np.linalg.norm(bumps.vectors, axis=1).min() == pytest.approx(1.0)  # the weak side
    far = bumps.centres + bumps.radii[:, None] * np.array([1.01, 0.0])
    clear = np.linalg.norm(far[:, None] - bumps.centres, axis=2) > bumps.radii
    outside = far[clear.all(axis=1)]
    np.testing.assert_array_equal(bumps.displacement(outside), 0)


def test_envelope_rises_to_apex_and_returns():
    curve = envelope(20, 7)
    assert curve[0] == 0 and curve[7] == 1 and curve[-1] == pytest.approx(0, abs=1e-12)
    assert (np.diff(curve[:8]) > 0).all() and (np.diff(curve[7:]) < 0).all()
