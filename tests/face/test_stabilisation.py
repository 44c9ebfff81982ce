import cv2
import numpy as np
import pytest

from micro_expression.face.alignment import similarity_to_crop, transform_points, warp_to_crop
from micro_expression.face.detection import detect_face, predict_landmarks
from micro_expression.face.stabilisation import (
    correct,
    ecc_registration,
    landmark_registration,
    registration_mask,
    stabilising_transforms,
)
from tests.preprocessing.clips import astronaut_canvas

CROP = 144


def gray(**motion):
    return cv2.cvtColor(astronaut_canvas(**motion), cv2.COLOR_BGR2GRAY)


def euclidean(angle_deg: float, shift: tuple[float, float], centre=(72.0, 72.0)) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D(centre, angle_deg, 1.0)
    matrix[:, 2] += shift
    return matrix


@pytest.fixture(scope="module")
def reference():
    """The still astronaut: image, landmarks and crop transform."""
    image = gray()
    points = predict_landmarks(image, detect_face(image)).astype(np.float64)
    return image, points, similarity_to_crop(points, CROP, 0.1)


def face_error(registration, truth, points):
    """Mean distance (px) between where two registrations send the face's points."""
    return np.linalg.norm(
        transform_points(points, registration) - transform_points(points, truth), axis=1
    ).mean()


def test_landmark_registration_recovers_a_rigid_motion_of_the_points(reference):
    _, points, _ = reference
    truth = euclidean(1.5, (2.3, -1.1))
    assert face_error(landmark_registration(points, transform_points(points, truth)), truth,
                      points) < 1e-9
    affine = landmark_registration(points, transform_points(points, truth), "affine")
    assert face_error(affine, truth, points) < 1e-6


def test_ecc_recovers_a_sub_pixel_head_motion_that_the_landmarks_miss(reference):
    image, points, transform = reference
    crop_points = transform_points(points, transform)
    template = warp_to_crop(image, transform, CROP)
    truth = euclidean(0.4, (0.6, -0.35))
    # The frame shows the reference's skin at truth(x): frame(truth(x)) = reference(x).
    moved = cv2.warpAffine(template, truth, (CROP, CROP), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REPLICATE)
    mask = registration_mask(crop_points, (CROP, CROP))
    found = ecc_registration(template, moved, mask)
    assert found is not None
    assert face_error(found, truth, crop_points) < 0.1  # the target: a tenth of a pixel
    assert face_error(np.eye(2, 3), truth, crop_points) > 0.5


def test_ecc_gives_up_on_an_image_without_texture(reference):
    _, points, _ = reference
    flat = np.full((CROP, CROP), 120, np.uint8)
    assert ecc_registration(flat, flat, registration_mask(points * 0.3, (CROP, CROP))) is None


def test_the_mask_covers_face_and_forehead_but_not_the_background(reference):
    _, points, transform = reference
    crop_points = transform_points(points, transform)
    mask = registration_mask(crop_points, (CROP, CROP))
    nose, brow_top = crop_points[30].round().astype(int), crop_points[17:27, 1].min()
    assert mask[nose[1], nose[0]] == 255
    assert mask[int(brow_top) - 10, nose[0]] == 255  # forehead, above the brows
    assert mask[:, :5].max() == 0 and mask[:, -5:].max() == 0  # beside the face


def test_correct_composes_the_registration_into_one_warp(reference):
    image, _, transform = reference
    registration = euclidean(0.7, (1.2, 0.4))
    once = cv2.warpAffine(image, correct(transform, registration), (CROP, CROP),
                          flags=cv2.INTER_LINEAR)
    crop = cv2.warpAffine(image, transform, (CROP, CROP), flags=cv2.INTER_LINEAR)
    twice = cv2.warpAffine(crop, registration, (CROP, CROP),
                           flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)
    inner = (slice(20, -20), slice(20, -20))
    assert np.abs(once[inner].astype(float) - twice[inner]).mean() < 1.5


@pytest.mark.parametrize("method", ["landmarks", "ecc"])
def test_stabilised_frames_line_up_with_the_reference(reference, method):
    """A head that turned by 1 degree and moved 2 px: after stabilisation its crop shows the
    reference's crop; without, it is off by pixels."""
    image, points, transform = reference
    frame = gray(dx=2.0, dy=-1.0, angle=1.0)
    frame_points = predict_landmarks(frame, detect_face(frame)).astype(np.float64)
    (kept,), (fell_back,) = stabilising_transforms(
        image, points, [frame], [frame_points], transform, CROP, "none"
    )
    (stabilised,), (fell_back,) = stabilising_transforms(
        image, points, [frame], [frame_points], transform, CROP, method
    )
    assert not fell_back
    # Where the reference's face points land in each crop of the moved frame.
    moved = cv2.getRotationMatrix2D((290.0 + 64, 120.0 + 40), 1.0, 1.0)
    moved[:, 2] += (2.0, -1.0)
    truth_points = transform_points(points, moved)
    target = transform_points(points, transform)
    unstabilised = np.linalg.norm(transform_points(truth_points, kept) - target, axis=1).mean()
    residual = np.linalg.norm(transform_points(truth_points, stabilised) - target, axis=1).mean()
    assert unstabilised > 1.0
    assert residual < (0.1 if method == "ecc" else 0.6)


def test_unknown_method_or_motion_is_refused(reference):
    image, points, transform = reference
    with pytest.raises(ValueError, match="stabilisation must be one of"):
        stabilising_transforms(image, points, [], [], transform, CROP, "optical")
    with pytest.raises(ValueError, match="motion must be one of"):
        stabilising_transforms(image, points, [], [], transform, CROP, "ecc", "homography")
