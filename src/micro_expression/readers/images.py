"""Frame files: find them in numeric order, hash them, and check that they decode."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import stat
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from micro_expression.readers.records import FrameFile

_ADDRESS = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")
MAX_FRAME_PIXELS = 40_000_000
"""The largest frame (width x height) any reader decodes; 8K (7680x4320, 33 Mpx) fits. A header
that declares more is refused before decoding, so a small file cannot claim gigabytes of
memory (a decompression bomb: a 333-byte JPEG can declare 30000x30000)."""
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def declared_pixels(image_file: bytes | str | Path | BinaryIO) -> int | None:
    """Width x height as an image file's header declares it, read without decoding the pixels;
    None when PIL cannot identify the file as an image."""
    source = io.BytesIO(image_file) if isinstance(image_file, bytes) else image_file
    try:
        with Image.open(source) as image:
            width, height = image.size
            return width * height
    except Image.DecompressionBombError as error:
        # PIL's own guard fired first; its message holds the declared pixel count.
        count = _BOMB_PIXELS.search(str(error))
        return int(count.group(1)) if count else 2 * (Image.MAX_IMAGE_PIXELS or 0) + 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def oversize_reason(pixels: int, max_pixels: int = MAX_FRAME_PIXELS) -> str | None:
    """Why a frame of ``pixels`` (width x height) is refused, or None when it is small enough."""
    if pixels <= max_pixels:
        return None
    return (f"its header declares {pixels / 1e6:,.1f} Mpx, more than the "
            f"{max_pixels / 1e6:,.1f} Mpx a frame may have: not decoded")


def dangling_link_reason(path: Path) -> str:
    """What is wrong with a symbolic link that leads to no file: a loop, or a missing target."""
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop so
        return "a loop of symbolic links"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a loop of symbolic links"
    return f"broken symbolic link to {os.readlink(path)} (the target does not exist)"


def special_file_reason(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a file (a FIFO, socket or device would block or stream
    for ever), or None for a regular file; a missing path is for the caller to report."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device or other special file")
    return f"not a regular file ({kind})"


def numbered_frames(folder: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    """Files of ``folder`` whose name matches ``pattern`` (group 1: the frame number),
    sorted by number (then name), so ``img9`` comes before ``img10``. Every match is kept:
    two names for one number (``img11.jpg``, ``img011.jpg``), broken links and special files
    (a FIFO named like a frame) are for the validation to report, not to drop."""
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and not path.is_dir():
            found.append((int(match.group(1)), path))
    return sorted(found)


def stable_message(error: Exception) -> str:
    """``Type: message`` without the memory addresses some libraries put in their messages
    (``<_io.BytesIO object at 0x7f...>``), so the same fault reads the same in every run."""
    return f"{type(error).__name__}: {_ADDRESS.sub('the file', str(error))}"


def inspect_frame(path: Path, number: int) -> FrameFile:
    """Hash the file's bytes and decode it fully; a broken link, a special file, a frame too
    large to decode (:data:`MAX_FRAME_PIXELS`), a read or decode failure (truncation included)
    is recorded in ``error`` rather than raised."""
    if path.is_symlink() and not path.exists():
        return FrameFile(str(path), number, sha256="", error=dangling_link_reason(path))
    if special := special_file_reason(path):
        return FrameFile(str(path), number, sha256="", error=special)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FrameFile(str(path), number, sha256="", error=f"cannot read: {exc.strerror}")
    digest = hashlib.sha256(data).hexdigest()
    pixels = declared_pixels(data)
    if pixels is not None and (too_large := oversize_reason(pixels)):
        return FrameFile(str(path), number, digest, error=too_large)
    try:
        with Image.open(io.BytesIO(data)) as image:
            # load() decodes every byte and raises on a truncated file (OpenCV only warns).
            image.load()
            width, height = image.size
    except UnidentifiedImageError:
        return FrameFile(str(path), number, digest, error="not an image PIL can identify")
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... per format
        return FrameFile(str(path), number, digest, error=stable_message(exc))
    return FrameFile(str(path), number, digest, width=width, height=height)


def inspect_frames(frames: Iterable[tuple[int, Path]], desc: str) -> dict[Path, FrameFile]:
    """Inspect every distinct frame file, in parallel threads (decoding releases the GIL),
    with a progress bar."""
    unique = dict((path, number) for number, path in frames)
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(inspect_frame, unique.keys(), unique.values())
        inspected = list(tqdm(results, total=len(unique), desc=desc, unit="frame"))
    return {Path(frame.path): frame for frame in inspected}
