import cv2
import numpy as np

from micro_expression.face.models import frontal_face_detector, landmark_predictor
from micro_expression.readers.ground_truth import load_ground_truth
from micro_expression.synthetic import generate_corpus
from micro_expression.synthetic.face import MIRROR_PERMUTATION, base_face


def test_mirror_permutation_swaps_sides():
    assert sorted(MIRROR_PERMUTATION) == list(range(68))
    np.testing.assert_array_equal(MIRROR_PERMUTATION[MIRROR_PERMUTATION], np.arange(68))
    assert (MIRROR_PERMUTATION[[0, 36, 48]] == [16, 45, 54]).all()
    landmarks = base_face().landmarks
    mirrored = landmarks * [-1, 1]
    # After mirroring and relabelling, the jaw again runs from image-left to image-right.
    assert mirrored[MIRROR_PERMUTATION][0, 0] < mirrored[MIRROR_PERMUTATION][16, 0]


def test_subjects_differ_in_geometry_and_tone(tiny_params):
    corpus = generate_corpus({**tiny_params, "subjects": 6})
    identities = [s.identity for s in corpus.subjects]
    assert len({i.face_width_px for i in identities}) == 6
    assert {i.mirrored for i in identities} == {True, False}
    assert len({round(i.brightness, 3) for i in identities}) == 6


def test_dlib_finds_each_subjects_face_where_the_truth_says(tiny_corpus_root, tiny_params):
    """Real dlib on sampled JPEG frames of every subject: found, and its 68 points agree
    with the true landmarks (mirrored subjects included) within a few % of the eye distance."""
    corpus = generate_corpus(tiny_params)
    for subject in corpus.subjects:
        clip = next(c for c in corpus.clips if c.subject == subject.number)
        truth = load_ground_truth(tiny_corpus_root / clip.ground_truth_file)
        for number in (clip.onset, clip.apex, clip.offset):
            path = tiny_corpus_root / clip.frame_file(number)
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            faces, scores, _ = frontal_face_detector().run(rgb, 0, 0)
            assert faces, f"dlib found no face in {path}"
            shape = landmark_predictor()(rgb, faces[int(np.argmax(scores))])
            found = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
            true = truth.landmarks[number - clip.onset]
            eye_distance = np.linalg.norm(true[36:42].mean(0) - true[42:48].mean(0))
            assert np.linalg.norm(found - true, axis=1).mean() < 0.06 * eye_distance, path
