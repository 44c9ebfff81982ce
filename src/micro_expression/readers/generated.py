"""The generated corpus: one or more dataset layouts plus a ground-truth file beside each clip.

Its manifest (``corpus.json``) names the layouts (``params.layout``; CASME II when it has
none). With one layout the corpus is that layout at ``root``; with several, each part is
under ``root/<layout>/``. Each part is read by its dataset's own reader, and each clip then
carries where its ground truth is, so that preprocessing can measure flow and landmark
quality against it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from micro_expression.readers.composite import READERS as DATASET_READERS
from micro_expression.readers.ground_truth import ground_truth_file
from micro_expression.readers.labels import GENERATED_LAYOUTS, generated_datasets
from micro_expression.readers.records import SourceClip

logger = logging.getLogger(__name__)

MANIFEST_FILENAME = "corpus.json"
DEFAULT_LAYOUTS = ("casme2",)
SHOWN_MISSING = 5

READERS: dict[str, Callable[[Path, str], list[SourceClip]]] = {
    layout: DATASET_READERS[layout] for layout in GENERATED_LAYOUTS
}
"""The reader of each layout a generated corpus may be written in."""


def part_root(root: Path, layouts: Sequence[str], layout: str) -> Path:
    """Where the part in ``layout`` of a corpus in ``layouts`` at ``root`` is: ``root`` itself
    when it is the only one, else ``root/<layout>``."""
    return root if len(layouts) == 1 else root / layout


def corpus_layouts(root: Path) -> tuple[str, ...]:
    """The layouts of the corpus at ``root``, from its manifest (CASME II without one)."""
    path = root / MANIFEST_FILENAME
    if not path.is_file():
        return DEFAULT_LAYOUTS
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"Cannot read the generated corpus' manifest {path}: {exc}") from exc
    layouts = (manifest.get("params") or {}).get("layout", list(DEFAULT_LAYOUTS))
    if not isinstance(layouts, list) or not layouts or not set(layouts) <= set(READERS):
        raise ValueError(f"{path}: params.layout must list layouts among "
                         f"{', '.join(READERS)}, got {layouts!r}")
    return tuple(layouts)


def read_generated(root: Path, dataset: str = "synthetic") -> list[SourceClip]:
    """Every clip of the corpus at ``root`` with its ground-truth file, each part read by its
    layout's reader; a clip without one keeps ``ground_truth=None`` (no quality is measured
    for it) and one warning names it."""
    layouts = corpus_layouts(root)
    clips = []
    for layout, name in zip(layouts, generated_datasets(layouts, dataset)):
        part = part_root(root, layouts, layout)
        clips += [_with_ground_truth(part, clip) for clip in READERS[layout](part, name)]
    missing = [clip.clip_id for clip in clips if clip.ground_truth is None]
    if missing:
        more = f" and {len(missing) - SHOWN_MISSING} more" if len(missing) > SHOWN_MISSING else ""
        logger.warning(
            "%s: %d of %d clips have no ground-truth file (%s), so their flow and landmark "
            "quality is not measured: %s%s",
            dataset, len(missing), len(clips), ground_truth_file(root, "<subject>", "<clip>"),
            ", ".join(missing[:SHOWN_MISSING]), more,
        )
    return clips


def _with_ground_truth(part: Path, clip: SourceClip) -> SourceClip:
    # The sidecar is keyed by the clip id <dataset>/<subject>/<clip>, whatever the layout.
    _, subject, name = clip.clip_id.split("/", 2)
    path = ground_truth_file(part, subject, name)
    return dataclasses.replace(clip, ground_truth=str(path)) if path.is_file() else clip
