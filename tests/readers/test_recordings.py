import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from micro_expression.readers.recordings import discover, prune_frames_cache
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
    found = discover(_frames(tmp_path / "clip"), tmp_path / "cache")
    (recording,) = found.recordings
    assert [p.rsplit("/", 1)[1] for p in recording.frame_paths] == [
        "frame2.jpg", "frame3.jpg", "frame10.jpg", "frame11.jpg"
    ]
    assert recording.first_frame == 2 and recording.recording_id == "clip"
    assert len(recording.content_hash) == 64 and not found.problems


def test_a_video_is_decoded_once_into_lossless_frames(tmp_path):
    video = _video(tmp_path / "take.mp4")
    first = discover(video, tmp_path / "cache")
    (recording,) = first.recordings
    assert len(recording.frame_paths) == 6 and recording.fps == 25
    assert all(p.endswith(".png") for p in recording.frame_paths)
    again = discover(video, tmp_path / "cache")
    assert again.recordings[0].content_hash == recording.content_hash


def test_a_video_is_hashed_in_chunks_not_read_whole(tmp_path, monkeypatch):
    """A 2 GB recording must not take 2 GB of memory to name its frame folder."""
    import hashlib
    from pathlib import Path

    video = _video(tmp_path / "take.mp4")
    expected = hashlib.sha256(video.read_bytes()).hexdigest()
    original = Path.read_bytes

    def read_bytes(path):
        assert path != video, f"{video} read whole into memory"
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    (recording,) = discover(video, tmp_path / "cache").recordings
    assert Path(recording.frame_paths[0]).parent.name == expected


def test_a_dataset_root_gives_its_clips_with_onset_offset_apex_and_label(tmp_path):
    root = write_casme2(tmp_path / "CASME2")
    found = discover(root, tmp_path / "cache")
    ids = [r.recording_id for r in found.recordings]
    assert "casme2/sub01/EP02_01f" in ids and len(ids) == 5
    happy = found.recordings[ids.index("casme2/sub01/EP02_01f")]
    assert (happy.first_frame, happy.apex, happy.label) == (9, 10, "happiness")
    assert len(happy.frame_paths) == 4


def test_bad_sources_are_problems_with_reasons(tmp_path):
    garbage = write_garbage(tmp_path / "broken.mp4")
    (problem,) = discover(garbage, tmp_path / "cache").problems
    assert problem.reason == f"OpenCV cannot open {garbage} as a video"
    folder = _frames(tmp_path / "bad_clip")
    write_garbage(folder / "frame5.jpg")
    (problem,) = discover(folder, tmp_path / "cache").problems
    assert problem.reason == "1 unreadable frames (frame5.jpg: not an image PIL can identify)"


def test_a_video_too_long_or_too_large_is_a_problem_and_stops_decoding(tmp_path):
    video = _video(tmp_path / "long.mp4", n_frames=6)
    (problem,) = discover(video, tmp_path / "cache", max_video_frames=4).problems
    assert problem.reason == f"{video} has more than the 4 frames allowed"
    assert len(list((tmp_path / "cache").rglob("frame_*.png"))) == 4
    assert len(discover(video, tmp_path / "cache").recordings) == 1
    (problem,) = discover(video, tmp_path / "cache", max_video_frames=5).problems  # cached
    assert problem.reason.endswith("has more than the 5 frames allowed")


def test_a_special_file_or_a_link_that_leads_nowhere_stops_with_its_kind(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ValueError, match=r"fifo is not a regular file \(a FIFO\): give a frame"):
        discover(tmp_path / "fifo", tmp_path / "cache")
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    with pytest.raises(ValueError, match="loop_a: a loop of symbolic links"):
        discover(tmp_path / "loop_a", tmp_path / "cache")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(ValueError, match=f"dangling: broken symbolic link to "
                                         f"{tmp_path / 'gone'} \\(the target does not exist\\)"):
        discover(tmp_path / "dangling", tmp_path / "cache")


def test_a_missing_or_unset_source_stops_with_its_name(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"inference.source {tmp_path / 'nope'} does not"):
        discover(tmp_path / "nope", tmp_path / "cache")
    with pytest.raises(ValueError, match="inference.source is not set"):
        discover(None, tmp_path / "cache")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is neither a frame folder, a video nor a dataset root"):
        discover(tmp_path / "empty", tmp_path / "cache")


def test_the_frames_cache_is_pruned_least_recently_used_first(tmp_path):
    cache = tmp_path / "cache"
    videos = [_video(tmp_path / f"v{n}.mp4", n_frames=4 + n) for n in range(3)]
    digests = [Path(discover(v, cache).recordings[0].frame_paths[0]).parent.name for v in videos]
    os.utime(cache / digests[0] / "complete", (1, 1))
    os.utime(cache / digests[1] / "complete", (2, 2))
    os.utime(cache / digests[2] / "complete", (3, 3))
    discover(videos[0], cache)  # reused: now the most recent
    (cache / "unfinished").mkdir()  # a decode killed half way
    (cache / "unfinished" / "frame_000001.png").write_bytes(b"x" * 10)
    size = [sum(p.stat().st_size for p in (cache / d).iterdir()) for d in digests]

    removed = prune_frames_cache(cache, keep=[digests[2]], max_bytes=size[0] + size[2])
    assert removed == ["unfinished", digests[1]]
    assert sorted(p.name for p in cache.iterdir()) == sorted([digests[0], digests[2]])
    assert prune_frames_cache(cache, keep=[digests[2]], max_bytes=0) == [digests[0]]
    assert [p.name for p in cache.iterdir()] == [digests[2]]  # kept, whatever its size
    assert prune_frames_cache(tmp_path / "none", keep=[], max_bytes=0) == []


def test_the_source_dataset_bounds_its_frames_cache(tmp_path):
    from micro_expression.io.recordings import RecordingSourceDataset

    cache = tmp_path / "cache"
    first, second = _video(tmp_path / "a.mp4"), _video(tmp_path / "b.mp4", n_frames=7)
    RecordingSourceDataset(path=str(first), frames_cache=str(cache)).load()
    (recording,) = RecordingSourceDataset(path=str(second), frames_cache=str(cache),
                                          frames_cache_max_mb=0).load().recordings
    assert [p.name for p in cache.iterdir()] == [Path(recording.frame_paths[0]).parent.name]
    assert all(Path(p).is_file() for p in recording.frame_paths)
