"""MEGC2019 composite: CASME II + SAMM + SMIC-HS, each read from its own root."""

from __future__ import annotations

from pathlib import Path

from micro_expression.readers.casme2 import read_casme2
from micro_expression.readers.records import SourceClip
from micro_expression.readers.samm import read_samm
from micro_expression.readers.smic import read_smic

READERS = {"casme2": read_casme2, "samm": read_samm, "smic": read_smic}


def read_composite(roots: dict[str, Path]) -> list[SourceClip]:
    """Clips of the three datasets; subjects and clip ids carry the dataset prefix."""
    missing = [name for name in READERS if roots.get(name) is None]
    if missing:
        raise ValueError(
            "The composite dataset needs a root for each of casme2, samm and smic; missing: "
            + ", ".join(f"dataset.roots.{name}" for name in missing)
        )
    return [clip for name, read in READERS.items() for clip in read(roots[name], name)]
