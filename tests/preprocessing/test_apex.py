import cv2
import numpy as np

from micro_expression.preprocessing.apex import (
    face_mask,
    motion_apex_index,
    motion_profile,
    sheet_apex_index,
)

SIZE = 64


def test_sheet_apex_is_found_by_frame_number():
    numbers = np.array([46, 47, 48, 49, 50])
    assert sheet_apex_index(numbers, 48) == 2
    assert sheet_apex_index(numbers, None) is None
    assert sheet_apex_index(numbers, 999) is None  # outside the clip
    assert sheet_apex_index(numbers, 46) is None  # the onset: no motion to measure


def face_points() -> np.ndarray:
    """A 68-point layout in a 64 px crop: jaw (0-16) on a lower arc, brows (17-26) across the
    top, eyes (36-47) as small rings; the other points at the centre."""
    points = np.full((68, 2), SIZE / 2)
    angles = np.linspace(np.pi, 0, 17)
    points[0:17] = np.c_[32 + 26 * np.cos(angles), 30 + 28 * np.sin(angles)]
    points[17:27] = np.c_[np.linspace(10, 54, 10), np.full(10, 12.0)]
    ring = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    for first, centre in ((36, (22, 24)), (42, (42, 24))):
        points[first:first + 6] = np.c_[centre[0] + 4 * np.cos(ring), centre[1] + 2 * np.sin(ring)]
    return points


def expression_sample(blink_at: int = 5) -> np.ndarray:
    """8 crops of a textured face whose mouth region rises up to sampled frame 3 (1.5 px)
    and falls back, under a flicker of +-3 %, with a blink (eyes dark) at ``blink_at``."""
    rng = np.random.default_rng(7)
    base = cv2.GaussianBlur(rng.uniform(60, 200, (SIZE, SIZE)).astype(np.float32), (0, 0), 1.5)
    rise = np.array([0.0, 0.5, 1.0, 1.5, 1.0, 0.6, 0.3, 0.1])
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    mouth = np.exp(-(((xs - 32) / 8) ** 2 + ((ys - 44) / 5) ** 2))
    frames = []
    for t, shift in enumerate(rise):
        frame = cv2.remap(base, xs, (ys + shift * mouth).astype(np.float32), cv2.INTER_LINEAR)
        frame *= 1 + 0.03 * (-1) ** t
        if t == blink_at:
            for centre in ((22, 24), (42, 24)):
                cv2.ellipse(frame, centre, (5, 3), 0, 0, 360, 20.0, thickness=-1)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return np.stack(frames)


def test_the_apex_is_where_the_face_moved_most_not_where_it_blinked_or_flickered():
    frames, points = expression_sample(), face_points()
    samples = np.array([[0, 3, 6, 9, 12, 15, 18, 21]])
    landmarks = np.broadcast_to(points, (1, 8, 68, 2))

    assert motion_apex_index(frames[None], landmarks, samples).tolist() == [9]
    # The blink changes the crop far more than the expression: without the eyes left out
    # (and the flicker matched) it would be chosen.
    change = np.abs(frames.astype(np.float32) - frames[0]).mean(axis=(1, 2))
    assert change.argmax() == 5
    profile = motion_profile(frames, points)
    assert profile[0] == 0 and profile.argmax() == 3


def test_the_face_mask_reads_the_face_between_jaw_and_brows_without_the_eyes():
    mask = face_mask(face_points(), SIZE)
    assert mask[44, 32] and not mask[24, 22] and not mask[24, 42]  # mouth in, eyes out
    assert not mask[2, 2] and not mask[62, 62]  # corners: background
