"""Frame files: find them in numeric order, hash them, and check that they decode."""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from micro_expression.readers.records import FrameFile

_ADDRESS = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


def numbered_frames(folder: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    """Files of ``folder`` whose name matches ``pattern`` (group 1: the frame number),
    sorted by number (then name), so ``img9`` comes before ``img10``. Every match is kept:
    two names for one number (``img11.jpg``, ``img011.jpg``) and broken links are for the
    validation to report, not to drop."""
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and (path.is_file() or path.is_symlink()):
            found.append((int(match.group(1)), path))
    return sorted(found)


def stable_message(error: Exception) -> str:
    """``Type: message`` without the memory addresses some libraries put in their messages
    (``<_io.BytesIO object at 0x7f...>``), so the same fault reads the same in every run."""
    return f"{type(error).__name__}: {_ADDRESS.sub('the file', str(error))}"


def inspect_frame(path: Path, number: int) -> FrameFile:
    """Hash the file's bytes and decode it fully; a broken link, a read or decode failure
    (truncation included) is recorded in ``error`` rather than raised."""
    if path.is_symlink() and not path.exists():
        return FrameFile(
            str(path), number, sha256="",
            error=f"broken symbolic link to {os.readlink(path)} (the target does not exist)",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FrameFile(str(path), number, sha256="", error=f"cannot read: {exc.strerror}")
    digest = hashlib.sha256(data).hexdigest()
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
