"""The generated corpus: the CASME II layout plus a ground-truth file beside each clip.

Its clips are read as CASME II; each then carries where its ground truth is, so that
preprocessing can measure flow and landmark quality against it.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from micro_expression.readers.casme2 import read_casme2
from micro_expression.readers.ground_truth import ground_truth_file
from micro_expression.readers.records import SourceClip

logger = logging.getLogger(__name__)

SHOWN_MISSING = 5


def read_generated(root: Path, dataset: str = "synthetic") -> list[SourceClip]:
    """Every clip of the coding sheet in ``root`` with its ground-truth file; a clip without
    one keeps ``ground_truth=None`` (no quality is measured for it) and one warning names it."""
    clips = [_with_ground_truth(root, clip) for clip in read_casme2(root, dataset)]
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


def _with_ground_truth(root: Path, clip: SourceClip) -> SourceClip:
    # The sidecar mirrors the clip's folder: <frames root>/<subject>/<clip>.
    folder = Path(clip.expected_folder)
    path = ground_truth_file(root, folder.parent.name, folder.name)
    return dataclasses.replace(clip, ground_truth=str(path)) if path.is_file() else clip
