"""Frame files: find them in numeric order, hash them, and check that they decode."""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image
from tqdm.auto import tqdm

from micro_expression.readers.records import FrameFile


def numbered_frames(folder: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    """Files of ``folder`` whose name matches ``pattern`` (group 1: the frame number),
    sorted by number, so ``img9`` comes before ``img10``."""
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def inspect_frame(path: Path, number: int) -> FrameFile:
    """Hash the file's bytes and decode it fully; a read or decode failure (truncation
    included) is recorded in ``error`` rather than raised."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FrameFile(str(path), number, sha256="", error=f"cannot read: {exc}")
    digest = hashlib.sha256(data).hexdigest()
    error = None
    try:
        with Image.open(io.BytesIO(data)) as image:
            # load() decodes every byte and raises on a truncated file (OpenCV only warns).
            image.load()
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... per format
        error = f"{type(exc).__name__}: {exc}"
    return FrameFile(path=str(path), number=number, sha256=digest, error=error)


def inspect_frames(frames: Iterable[tuple[int, Path]], desc: str) -> dict[Path, FrameFile]:
    """Inspect every distinct frame file, in parallel threads (decoding releases the GIL),
    with a progress bar."""
    unique = dict((path, number) for number, path in frames)
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(inspect_frame, unique.keys(), unique.values())
        inspected = list(tqdm(results, total=len(unique), desc=desc, unit="frame"))
    return {Path(frame.path): frame for frame in inspected}
