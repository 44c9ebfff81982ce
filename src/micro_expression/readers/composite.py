"""Composites: any two or more of the coded datasets, each read from its own root (MEGC2019's
is CASME II + SAMM + SMIC-HS; MEGC challenges since 2022 add CAS(ME)^3)."""

from __future__ import annotations

from pathlib import Path

from micro_expression.readers.casme2 import read_casme2
from micro_expression.readers.casme3 import read_casme3
from micro_expression.readers.fourdme import read_4dme
from micro_expression.readers.mmew import read_mmew
from micro_expression.readers.records import SourceClip
from micro_expression.readers.samm import read_samm
from micro_expression.readers.smic import read_smic

READERS = {"casme2": read_casme2, "samm": read_samm, "smic": read_smic, "casme3": read_casme3,
           "mmew": read_mmew, "4dme": read_4dme}
"""The datasets a composite may hold, in the order their clips are listed."""


def read_composite(roots: dict[str, Path]) -> list[SourceClip]:
    """Clips of every dataset given a root (at least two); each reader prefixes its subjects
    and clip ids with its dataset, so they stay unique across the parts."""
    if unknown := sorted(set(roots) - set(READERS)):
        raise ValueError(f"The composite dataset cannot hold {', '.join(unknown)}: its parts "
                         f"are {', '.join(READERS)}")
    parts = [name for name in READERS if roots.get(name) is not None]
    if len(parts) < 2:
        missing = ", ".join(f"dataset.roots.{name}" for name in READERS if name not in parts)
        raise ValueError(
            f"The composite dataset needs roots for at least two of its parts; given "
            f"{', '.join(parts) or 'none'}; set one or more of: {missing}")
    return [clip for name in parts for clip in READERS[name](roots[name], name)]
