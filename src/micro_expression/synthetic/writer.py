"""Write a planned corpus to disk: atomically per clip, with a manifest of file digests.

``corpus.json`` records the parameters, their digest, the counts and the sha256 of every
file. A later write with the same digest re-renders only clips whose files are missing,
damaged or accompanied by strays; with another digest the old corpus, in whichever layouts,
is replaced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from micro_expression import __version__
from micro_expression.readers.generated import MANIFEST_FILENAME
from micro_expression.readers.ground_truth import GROUND_TRUTH_FOLDER
from micro_expression.synthetic.archive import npz_bytes
from micro_expression.synthetic.clip import RenderedClip, render_clip
from micro_expression.synthetic.coding_sheet import coding_sheet_bytes
from micro_expression.synthetic.face import IdentityFace, render_identity
from micro_expression.synthetic.layouts import LAYOUTS
from micro_expression.synthetic.specs import ClipSpec, GeneratedCorpus

logger = logging.getLogger(__name__)

# Written before anything else, so an interrupted first write is still known to be ours.
MARKER_FILENAME = ".synthetic-corpus"
ALLOWED_FOREIGN_FILES = {".gitkeep"}


def write_corpus(corpus: GeneratedCorpus, root: Path) -> dict[str, Any]:
    """Write ``corpus`` under ``root`` unless it is there intact; returns the manifest."""
    digest = corpus.params.digest()
    previous = _read_manifest(root)
    sheets = corpus.sheets()
    if previous is not None and previous.get("params_digest") == digest:
        hashes = dict(previous["files"])
        stale = [clip for clip in corpus.clips if not _clip_intact(root, clip, hashes)]
        sheets_intact = all(_file_matches(root / path, hashes.get(path)) for path in sheets)
        if not stale and sheets_intact:
            logger.info("Synthetic corpus at %s is intact; nothing to write", root)
            return previous
        logger.info("Synthetic corpus at %s: re-rendering %d damaged clip(s)", root, len(stale))
    else:
        _claim_root(root)
        hashes, stale = {}, list(corpus.clips)

    faces: dict[int, IdentityFace] = {}
    identities = {subject.number: subject.identity for subject in corpus.subjects}
    for clip in tqdm(stale, desc="synthetic corpus", unit="clip"):
        if clip.subject not in faces:
            identity = identities[clip.subject]
            faces[clip.subject] = render_identity(identity, corpus.params.image_size)
        rendered = render_clip(clip, faces[clip.subject], corpus.params)
        hashes.update(_write_clip(root, clip, rendered))

    for path, sheet in sheets.items():
        data = coding_sheet_bytes(sheet)
        _write_atomic(root / path, data)
        hashes[path] = _sha256(data)
    manifest = {
        "generator": "micro_expression.synthetic",
        "package_version": __version__,
        "params": corpus.params.to_dict(),
        "seed": corpus.params.seed,
        "params_digest": digest,
        "counts": corpus.counts(),
        "files": dict(sorted(hashes.items())),
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    _write_atomic(root / MANIFEST_FILENAME, text.encode())
    return manifest


def _write_clip(root: Path, clip: ClipSpec, rendered: RenderedClip) -> dict[str, str]:
    """Frames into a hidden folder renamed into place, then the ground truth; their digests."""
    hashes = {}
    final = root / clip.clip_folder
    partial = final.with_name(f".{final.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    for number, data in zip(clip.frame_numbers, rendered.frames):
        (partial / clip.frame_name(number)).write_bytes(data)
        hashes[clip.frame_file(number)] = _sha256(data)
    if final.exists():
        shutil.rmtree(final)
    os.rename(partial, final)
    ground_truth = npz_bytes(rendered.ground_truth.to_arrays())
    _write_atomic(root / clip.ground_truth_file, ground_truth)
    hashes[clip.ground_truth_file] = _sha256(ground_truth)
    return hashes


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_matches(path: Path, expected: str | None) -> bool:
    if expected is None or not path.is_file():
        return False
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest() == expected


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((root / MANIFEST_FILENAME).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    valid = isinstance(manifest, dict) and isinstance(manifest.get("files"), dict)
    return manifest if valid else None


def _clip_intact(root: Path, clip: ClipSpec, hashes: dict[str, str]) -> bool:
    folder = root / clip.clip_folder
    expected = {clip.frame_name(n) for n in clip.frame_numbers}
    if not folder.is_dir() or set(os.listdir(folder)) != expected:
        return False
    return all(_file_matches(root / path, hashes.get(path)) for path in clip.files())


def _written_names() -> set[str]:
    """Every name a corpus in any layouts may write in its root: each layout's own, each
    part folder, the ground truth and the manifest."""
    names = {GROUND_TRUTH_FOLDER, MANIFEST_FILENAME}
    for name, layout in LAYOUTS.items():
        names |= {name, *layout.top_level_names}
    return names


def _claim_root(root: Path) -> None:
    """Make ``root`` ready for a fresh corpus, refusing to touch folders that are not ours."""
    root.mkdir(parents=True, exist_ok=True)
    ours = (root / MANIFEST_FILENAME).exists() or (root / MARKER_FILENAME).exists()
    foreign = sorted(set(os.listdir(root)) - ALLOWED_FOREIGN_FILES)
    if foreign and not ours:
        raise FileExistsError(
            f"{root} is not empty and holds no generated corpus ({MANIFEST_FILENAME} missing): "
            f"refusing to overwrite {foreign[:5]}; pick an empty folder"
        )
    for name in _written_names():
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    (root / MARKER_FILENAME).write_text("written by micro_expression.synthetic\n")
