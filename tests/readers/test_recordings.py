import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from micro_expression.readers.recordings import decode_video, discover
from tests.readers.fixtures import noise_image, write_casme2, write_garbage, write_jpeg


def _frames(folder, numbers=(3, 10, 2, 11)):
    for n in numbers:
        write_jpeg(folder / f"frame{n}.jpg", noise_image("rec", n))
    return folder


def _video(path, n_frames=6, size=(48, 64)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, size[::-1])
    for n in range(n_frames):
        writer.write(np.full((*size, 3), 20 * n, np.uint8))
    writer.release()
    return path


def test_a_frame_folder_is_one_recording_in_numeric_order(tmp_path):
    found = discover(_frames(tmp_path / "clip"))
    (recording,) = found.recordings
    assert [p.rsplit("/", 1)[1] for p in recording.frame_paths] == [
        "frame2.jpg", "frame3.jpg", "frame10.jpg", "frame11.jpg"
    ]
    assert recording.first_frame == 2 and recording.recording_id == "clip"
    assert len(recording.content_hash) == 64 and not found.problems


def test_a_video_is_one_recording_that_nothing_decodes_up_front(tmp_path):
    video = _video(tmp_path / "take.mp4")
    before = set(tmp_path.rglob("*"))
    (recording,) = discover(video).recordings
    assert recording.is_video and recording.frame_paths == () and recording.fps == 25
    assert recording.source == str(video) and recording.first_frame == 1
    assert set(tmp_path.rglob("*")) == before, "discovery wrote files"


def test_a_video_is_hashed_in_chunks_not_read_whole(tmp_path, monkeypatch):
    """A 2 GB recording must not take 2 GB of memory to be identified."""
    import hashlib

    video = _video(tmp_path / "take.mp4")
    expected = hashlib.sha256(video.read_bytes()).hexdigest()
    original = Path.read_bytes

    def read_bytes(path):
        assert path != video, f"{video} read whole into memory"
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    (recording,) = discover(video).recordings
    assert recording.content_hash == recording.video_sha256 == expected


def test_a_video_decoded_to_files_gives_lossless_grey_frames_and_stops_past_its_limit(tmp_path):
    video = _video(tmp_path / "take.mp4", n_frames=6)
    paths = decode_video(video, tmp_path / "frames")
    assert [Path(p).name for p in paths] == [f"frame_{n:06d}.png" for n in range(1, 7)]
    capture = cv2.VideoCapture(str(video))
    for path in paths:
        expected = cv2.cvtColor(capture.read()[1], cv2.COLOR_BGR2GRAY)
        assert np.array_equal(cv2.imread(path, cv2.IMREAD_UNCHANGED), expected)
    capture.release()
    with pytest.raises(ValueError, match=f"{video} has more than the 4 frames allowed"):
        decode_video(video, tmp_path / "limited", max_frames=4)
    assert len(list((tmp_path / "limited").iterdir())) == 4, "decoding went on past the limit"
    with pytest.raises(ValueError, match="no frame could be decoded from"):
        decode_video(_video(tmp_path / "empty.mp4", n_frames=0), tmp_path / "none")


def test_a_dataset_root_gives_its_clips_with_onset_offset_apex_and_label(tmp_path):
    root = write_casme2(tmp_path / "CASME2")
    found = discover(root)
    ids = [r.recording_id for r in found.recordings]
    assert "casme2/sub01/EP02_01f" in ids and len(ids) == 5
    happy = found.recordings[ids.index("casme2/sub01/EP02_01f")]
    assert (happy.first_frame, happy.apex, happy.label) == (9, 10, "happiness")
    assert len(happy.frame_paths) == 4


def test_bad_sources_are_problems_with_reasons(tmp_path):
    garbage = write_garbage(tmp_path / "broken.mp4")
    (problem,) = discover(garbage).problems
    assert problem.reason == f"OpenCV cannot open {garbage} as a video"
    folder = _frames(tmp_path / "bad_clip")
    write_garbage(folder / "frame5.jpg")
    (problem,) = discover(folder).problems
    assert problem.reason == "1 unreadable frames (frame5.jpg: not an image PIL can identify)"


def test_a_special_file_or_a_link_that_leads_nowhere_stops_with_its_kind(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ValueError, match=r"fifo is not a regular file \(a FIFO\): give a frame"):
        discover(tmp_path / "fifo")
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    with pytest.raises(ValueError, match="loop_a: a loop of symbolic links"):
        discover(tmp_path / "loop_a")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(ValueError, match=f"dangling: broken symbolic link to "
                                         f"{tmp_path / 'gone'} \\(the target does not exist\\)"):
        discover(tmp_path / "dangling")


def test_a_missing_or_unset_source_stops_with_its_name(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"inference.source {tmp_path / 'nope'} does not"):
        discover(tmp_path / "nope")
    with pytest.raises(ValueError, match="inference.source is not set"):
        discover(None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is neither a frame folder, a video nor a dataset root"):
        discover(tmp_path / "empty")


def test_the_source_dataset_reads_what_its_path_holds(tmp_path):
    from micro_expression.io.recordings import RecordingSourceDataset

    video = _video(tmp_path / "a.mp4")
    (recording,) = RecordingSourceDataset(path=str(video)).load().recordings
    assert recording.is_video and recording.source == str(video)
