import pytest
import torch

from micro_expression.model.inputs import FrameEncoding


def _clip(seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    return 100 + 40 * torch.rand(2, 8, 16, 16)


def test_frames_alone_are_one_channel_normalised_per_clip():
    frames = _clip()
    channels, normalised = FrameEncoding("frames", "clip")(frames)
    assert channels.shape == (2, 8, 1, 16, 16)
    torch.testing.assert_close(channels[:, :, 0], normalised)
    assert normalised.mean(dim=(1, 2, 3)).abs().max() < 1e-5
    torch.testing.assert_close(normalised.std(dim=(1, 2, 3)), torch.ones(2))


def test_frame_normalisation_removes_a_global_flicker():
    frames = _clip()
    flickered = frames * torch.linspace(0.9, 1.1, 8).view(1, 8, 1, 1) + 5
    encoding = FrameEncoding("frames", "frame")
    torch.testing.assert_close(encoding(flickered).normalised, encoding(frames).normalised,
                               rtol=1e-4, atol=1e-4)


def test_change_channel_shows_the_motion_at_unit_scale():
    frames = _clip().repeat(1, 1, 1, 1)
    frames[:, 1:] = frames[:, :1]  # a still clip ...
    frames[:, 4:, 5:8, 5:8] += 2.0  # ... with a faint change (1-2 % of the grey level) late on
    channels, _ = FrameEncoding("frames_and_change", "clip")(frames)
    assert channels.shape == (2, 8, 2, 16, 16)
    change = channels[:, :, 1]
    assert (change[:, :4] == 0).all()  # nothing moved before frame 4
    torch.testing.assert_close(change.std(dim=(1, 2, 3)), torch.ones(2))
    assert change[:, 4:, 5:8, 5:8].abs().min() > 2.0  # the change stands out of its channel


def test_a_still_clip_gives_a_finite_zero_change():
    frames = torch.full((1, 8, 16, 16), 80.0)
    channels, normalised = FrameEncoding()(frames)
    assert torch.isfinite(channels).all() and (channels == 0).all()


@pytest.mark.parametrize(
    ("representation", "normalisation", "message"),
    [("difference", "frame", "representation must be one of"),
     ("frames", "dataset", "normalisation must be one of")],
)
def test_unknown_choices_name_the_valid_ones(representation, normalisation, message):
    with pytest.raises(ValueError, match=message):
        FrameEncoding(representation, normalisation)
