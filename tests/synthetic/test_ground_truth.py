"""The saved ground truth describes the rendered frames to well below 0.05 px."""

import cv2
import numpy as np
import pytest
from scipy import ndimage

from micro_expression.readers import read_source
from micro_expression.readers.ground_truth import ground_truth_file, load_ground_truth
from micro_expression.synthetic import generate_corpus
from micro_expression.synthetic.face import render_identity
from micro_expression.synthetic.render import FrameRenderer


def _sample(field, points):
    """Bicubic samples of an (H, W, 2) field at (..., 2) (x, y) points."""
    coords = [points[..., 1].ravel(), points[..., 0].ravel()]
    values = [ndimage.map_coordinates(field[..., k].astype(float), coords, order=3) for k in (0, 1)]
    return np.stack(values, axis=-1).reshape(points.shape)


def _grid(height, width):
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.stack([xs, ys], axis=-1)


@pytest.fixture(scope="module")
def strongest_clip(tiny_corpus_root, tiny_params):
    """(corpus, clip spec, ground truth) of the clip with the largest apex amplitude."""
    corpus = generate_corpus(tiny_params)
    clip = max(corpus.clips, key=lambda c: c.amplitude_px)
    truth = load_ground_truth(tiny_corpus_root / clip.ground_truth_file)
    return corpus, clip, truth


def test_saved_fields_match_the_sheet_and_frames(strongest_clip):
    _, clip, truth = strongest_clip
    assert list(truth.frame_numbers) == list(clip.frame_numbers)
    assert truth.frame_numbers[truth.apex_index] == clip.apex
    assert truth.landmarks.shape == (len(clip.frame_numbers), 68, 2)
    assert truth.image_size == (240, 320)
    assert (truth.subject, truth.filename) == (clip.subject_name, clip.filename)
    assert truth.emotion == clip.emotion and truth.action_units == clip.action_unit_code
    assert truth.displacement(truth.apex_index).shape == (240, 320, 2)
    assert truth.displacement(truth.apex_index).dtype == np.float32
    np.testing.assert_array_equal(truth.displacement(0), 0)
    assert np.abs(truth.flow_between(3, 3)).max() < 1e-6


def test_displacement_carries_onset_landmarks_onto_each_frames_landmarks(strongest_clip):
    _, _, truth = strongest_clip
    onset = truth.landmarks[0]
    for t in range(len(truth.frame_numbers)):
        moved = onset + _sample(truth.displacement(t), onset)
        assert np.abs(moved - truth.landmarks[t]).max() < 0.005
    assert np.abs(truth.landmarks[truth.apex_index] - onset).max() > 1.0  # they do move


def test_flow_between_frames_composes_the_displacements(strongest_clip):
    _, _, truth = strongest_clip
    height, width = truth.image_size
    onset_points = _grid(height, width)[20:-20:3, 20:-20:3].astype(np.float64)
    i, j = 1, truth.apex_index
    in_i = onset_points + _sample(truth.displacement(i), onset_points)
    in_j = onset_points + _sample(truth.displacement(j), onset_points)
    carried = in_i + _sample(truth.flow_between(i, j), in_i)
    assert np.abs(carried - in_j).max() < 0.005


def _residual_shift(reference, warped, window):
    """Least-squares translation (x, y) that best explains ``warped - reference`` in ``window``."""
    grad_y, grad_x = np.gradient(reference)
    system = np.stack([grad_x[window], grad_y[window]], axis=1)
    return np.linalg.lstsq(system, -(warped - reference)[window], rcond=None)[0]


@pytest.fixture(scope="module")
def renderer(strongest_clip):
    """The frame renderer of the strongest clip, driven by the saved ground truth."""
    corpus, clip, truth = strongest_clip
    subject = next(s for s in corpus.subjects if s.number == clip.subject)
    face = render_identity(subject.identity, corpus.params.image_size)
    np.testing.assert_allclose(face.landmarks, truth.landmarks[0], atol=1e-9)
    return FrameRenderer(face.image, truth.motion)


def test_renderer_samples_the_onset_face_where_the_truth_says(strongest_clip, renderer):
    """Pixel x of frame t shows onset point B_t(x); the truth must carry B_t(x) back to x."""
    _, _, truth = strongest_clip
    grid = _grid(*truth.image_size).reshape(-1, 2).astype(np.float64)
    for t in (1, truth.apex_index, len(truth.frame_numbers) - 1):
        map_x, map_y = renderer.sample_map(t)
        sampled = np.stack([map_x.ravel(), map_y.ravel()], axis=1).astype(np.float64)
        assert np.abs(truth.motion.forward(sampled, t) - grid).max() < 0.005


def test_rendered_frames_pulled_back_by_the_truth_match_the_onset(strongest_clip, renderer):
    """Measured on the images: the residual motion after undoing the true displacement is
    ~0, while the same measurement sees a 0.2 px error in the field."""
    _, _, truth = strongest_clip
    apex = truth.apex_index
    onset = cv2.cvtColor(renderer.clean_frame(0), cv2.COLOR_BGR2GRAY)
    frame = cv2.cvtColor(renderer.clean_frame(apex), cv2.COLOR_BGR2GRAY)
    displacement = truth.displacement(apex)
    grid = _grid(*truth.image_size)

    def pulled_back(flow):
        sample = grid + flow
        return cv2.remap(frame, sample[..., 0], sample[..., 1], cv2.INTER_CUBIC)

    true_back = pulled_back(displacement)
    off_back = pulled_back(displacement + np.float32([0.2, 0.0]))
    strong = np.linalg.norm(truth.motion.bumps.vectors, axis=1) > 0.5
    assert strong.sum() >= 2
    for centre, radius in zip(truth.motion.bumps.centres[strong], truth.motion.bumps.radii[strong]):
        window = np.linalg.norm(grid - centre, axis=-1) < 0.4 * radius
        assert np.abs(_residual_shift(onset, true_back, window)).max() < 0.04
        assert abs(_residual_shift(onset, off_back, window)[0] + 0.2) < 0.08


def test_jpeg_frames_on_disk_pulled_back_by_the_truth_match_the_onset(
    tiny_corpus_root, strongest_clip
):
    _, clip, truth = strongest_clip

    def read(number):
        path = tiny_corpus_root / clip.frame_file(number)
        return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float32)

    apex = truth.apex_index
    onset, frame = read(clip.onset), read(clip.apex)
    sample = _grid(*truth.image_size) + truth.displacement(apex)
    back = cv2.remap(frame, sample[..., 0], sample[..., 1], cv2.INTER_CUBIC)
    moving = np.linalg.norm(truth.displacement(apex), axis=-1) > 1.0
    assert moving.sum() > 200
    assert np.abs(back - onset)[moving].mean() < 0.5 * np.abs(frame - onset)[moving].mean()


def test_the_reader_finds_each_clip_file_where_the_writer_put_it(tiny_corpus_root, tiny_params):
    corpus = generate_corpus(tiny_params)
    clips = {c.clip_id: c for c in read_source("synthetic", tiny_corpus_root).clips}
    assert len(clips) == len(corpus.clips)
    for spec in corpus.clips:
        expected = tiny_corpus_root / spec.ground_truth_file
        assert ground_truth_file(tiny_corpus_root, spec.subject_name, spec.filename) == expected
        clip = clips[f"synthetic/{spec.subject_name}/{spec.filename}"]
        assert clip.ground_truth == str(expected) and expected.is_file()


def test_bad_files_are_named(tmp_path, strongest_clip):
    with pytest.raises(FileNotFoundError, match="EP99_01.npz"):
        load_ground_truth(tmp_path / "EP99_01.npz")
    foreign = tmp_path / "other.npz"
    np.savez(foreign, flow=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz.*missing arrays"):
        load_ground_truth(foreign)
    _, _, truth = strongest_clip
    with pytest.raises(IndexError, match=truth.filename):
        truth.displacement(len(truth.frame_numbers))
