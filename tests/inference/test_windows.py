import pytest

from micro_expression.inference.windows import window_plan, window_starts


def test_windows_cover_every_frame_and_end_on_the_last():
    assert window_starts(10, 4, 3) == [0, 3, 6]
    assert window_starts(11, 4, 3) == [0, 3, 6, 7]
    assert window_starts(3, 4, 2) == [0]


def test_a_recording_up_to_the_long_factor_is_one_clip():
    assert window_plan(80, longest_training_clip=40, long_factor=2.0, length=None, stride=None,
                       typical_training_clip=33) == [(0, 79)]


def test_a_long_recording_gets_windows_of_the_typical_clip_every_half_window():
    plan = window_plan(160, 40, 2.0, None, None, 33)
    assert plan[0] == (0, 32) and plan[1] == (17, 49) and plan[-1] == (127, 159)
    assert window_plan(160, 40, 2.0, 50, 50, 33) == [(0, 49), (50, 99), (100, 149), (110, 159)]


def test_bad_window_settings_are_named():
    with pytest.raises(ValueError, match="window length and stride must be >= 1"):
        window_starts(10, 0, 1)
