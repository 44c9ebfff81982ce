"""Videos scored in windows as they are decoded: the same numbers as the same frames scored
as clips, results while the video is still being read, and bad videos named."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from micro_expression.inference import stream
from micro_expression.inference.stream import VideoUnreadable, score_video
from micro_expression.inference.windows import WindowSchedule
from micro_expression.readers.recordings import decode_video
from tests.inference.videos import hollow_video, untrained_classifier, write_video
from tests.preprocessing.clips import CANVAS, astronaut_canvas
from tests.readers.fixtures import write_garbage

SCHEDULE = WindowSchedule(whole_max=10, length=12, stride=6)
N_FRAMES = 34
BLANK = range(20, 34)  # no face: the windows that start there are rejected
REAL_CAPTURE = cv2.VideoCapture


@pytest.fixture(scope="module")
def classifier():
    return untrained_classifier()


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    frames = [np.full((*CANVAS, 3), 128, np.uint8) if t in BLANK
              else astronaut_canvas(0.4 * t, 0.2 * t) for t in range(N_FRAMES)]
    return write_video(tmp_path_factory.mktemp("stream") / "take.mp4", frames)


@pytest.mark.parametrize("workers", [1, 2])
def test_windows_streamed_score_as_their_frames_scored_as_a_clip(classifier, video, tmp_path,
                                                                 workers):
    shared_before = shared_memory()
    scores = list(score_video(video, classifier, SCHEDULE, workers=workers, progress=False))
    assert [(s.first, s.last) for s in scores] == SCHEDULE.plan(N_FRAMES)
    files = decode_video(video, tmp_path / "frames")
    for score in scores:
        window = files[score.first:score.last + 1]
        if score.first in BLANK:
            assert score.probabilities is None and score.stage == "detect"
            assert score.reason == f"no face found in any of the 12 frames from {video} frame " \
                                   f"{score.first + 1}"
            continue
        expected = classifier.classify_frames(window)
        np.testing.assert_array_equal(score.probabilities, expected)
        assert score.landmarks_outside == 0
    assert shared_memory() <= shared_before, "shared memory left behind"


def shared_memory() -> set[str]:
    """Blocks of ``multiprocessing.shared_memory`` in this machine."""
    return {p.name for p in Path("/dev/shm").iterdir() if p.name.startswith("psm_")}


class CountingCapture:
    """A real capture that counts the frames it has decoded."""

    decoded = 0

    def __init__(self, path: str) -> None:
        self.capture = REAL_CAPTURE(path)

    def read(self):
        result = self.capture.read()
        CountingCapture.decoded += bool(result[0])
        return result

    def __getattr__(self, name):
        return getattr(self.capture, name)


def test_windows_come_while_the_video_is_read_not_after(classifier, video, monkeypatch):
    CountingCapture.decoded = 0
    monkeypatch.setattr(stream.cv2, "VideoCapture", CountingCapture)
    results = score_video(video, classifier, SCHEDULE, workers=1, progress=False)
    first = next(results)
    assert (first.first, first.last) == (0, 11)
    assert CountingCapture.decoded <= SCHEDULE.frames_held(2) < N_FRAMES
    results.close()


def test_bad_videos_are_named(classifier, tmp_path, monkeypatch):
    garbage = write_garbage(tmp_path / "broken.mp4")
    with pytest.raises(VideoUnreadable, match=f"OpenCV cannot open {garbage} as a video"):
        next(score_video(garbage, classifier, SCHEDULE, progress=False))
    hollow = hollow_video(tmp_path / "hollow.avi")
    with pytest.raises(VideoUnreadable, match=f"no frame could be decoded from {hollow}"):
        list(score_video(hollow, classifier, SCHEDULE, progress=False))

    class ResizingCapture(CountingCapture):
        """Frame 16 comes at half the size, as a stream that changes resolution does."""

        def read(self):
            decoded, image = super().read()
            if decoded and CountingCapture.decoded == 16:
                image = cv2.resize(image, (320, 240))
            return decoded, image

    frames = [astronaut_canvas(0.4 * t, 0.2 * t) for t in range(20)]
    resized = write_video(tmp_path / "resized.mp4", frames)
    CountingCapture.decoded = 0
    monkeypatch.setattr(stream.cv2, "VideoCapture", ResizingCapture)
    scored = []
    with pytest.raises(VideoUnreadable, match=f"{resized}: frame 16 is 320x240, the first "
                                              "640x480"):
        for score in score_video(resized, classifier, SCHEDULE, progress=False):
            scored.append(score)
    assert [(s.first, s.last) for s in scored] == [(0, 11)]  # what came before is kept
