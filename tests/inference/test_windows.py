import itertools

import pytest

from micro_expression.inference.windows import WindowSchedule, window_plan


def expected_windows(n_frames: int, whole_max: float, length: int, stride: int):
    """The rule written plainly: whole when short, else every stride plus one on the end."""
    if n_frames <= whole_max:
        return [(0, n_frames - 1)]
    if n_frames <= length:
        return [(0, n_frames - 1)]
    starts = list(range(0, n_frames - length + 1, stride))
    if starts[-1] + length < n_frames:
        starts.append(n_frames - length)
    return [(s, s + length - 1) for s in starts]


def test_windows_cover_every_frame_and_end_on_the_last():
    schedule = WindowSchedule(whole_max=0, length=4, stride=3)
    assert schedule.plan(10) == [(0, 3), (3, 6), (6, 9)]
    assert schedule.plan(11) == [(0, 3), (3, 6), (6, 9), (7, 10)]
    assert schedule.plan(3) == [(0, 2)]  # shorter than a window: never past its end


def test_a_recording_up_to_the_long_factor_is_one_clip():
    assert window_plan(80, longest_training_clip=40, long_factor=2.0, length=None, stride=None,
                       typical_training_clip=33) == [(0, 79)]


def test_a_long_recording_gets_windows_of_the_typical_clip_every_half_window():
    plan = window_plan(160, 40, 2.0, None, None, 33)
    assert plan[0] == (0, 32) and plan[1] == (17, 49) and plan[-1] == (127, 159)
    assert window_plan(160, 40, 2.0, 50, 50, 33) == [(0, 49), (50, 99), (100, 149), (110, 159)]


@pytest.mark.parametrize("whole_max", [0, 5, 7.5, 12, 40])
def test_windows_scheduled_frame_by_frame_are_the_plan_and_come_once_their_frames_have(
    whole_max
):
    for length, stride, n_frames in itertools.product((1, 3, 8), (1, 2, 5, 9), range(1, 60)):
        schedule = WindowSchedule(whole_max, length, stride)
        streamed = []
        for index in range(n_frames):
            for first, last in schedule.ready(index):
                # As soon as the stream is known to be long, and not before its last frame.
                assert last == index or (index == schedule.known_long_at and last < index)
                streamed.append((first, last))
        streamed += schedule.at_end(n_frames)
        assert streamed == expected_windows(n_frames, whole_max, length, stride), (
            length, stride, n_frames)


@pytest.mark.parametrize("in_flight", [1, 2, 4])
def test_the_frames_held_outlast_every_window_that_may_still_read_them(in_flight):
    """A stream that holds ``frames_held`` frames and waits for the oldest window whenever
    ``in_flight`` are pending (or one still reads the frame about to be dropped) never
    drops a frame a window, scored now or later, reads."""
    for whole_max, length, stride, n_frames in itertools.product(
        (0, 9.5, 30), (4, 8, 33), (1, 3, 17), (5, 40, 101)
    ):
        schedule = WindowSchedule(whole_max, length, stride)
        held = schedule.frames_held(in_flight)
        dropped, pending = -1, []

        def score_oldest():
            first, last = pending.pop(0)
            assert first > dropped, f"frame {first}..{last} dropped before it was scored"

        for index in range(n_frames):
            while pending and pending[0][0] <= index - held:
                score_oldest()
            dropped = index - held
            for window in schedule.ready(index):
                while len(pending) >= in_flight:
                    score_oldest()
                pending.append(window)
        pending += schedule.at_end(n_frames)
        while pending:
            score_oldest()


def test_bad_window_settings_are_named():
    with pytest.raises(ValueError, match="window length and stride must be >= 1"):
        WindowSchedule(10, 0, 1)
