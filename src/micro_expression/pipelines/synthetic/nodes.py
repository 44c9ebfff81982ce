"""Nodes of the synthetic pipeline."""

from __future__ import annotations

from typing import Any

from micro_expression import synthetic
from micro_expression.synthetic import GeneratedCorpus


def generate_corpus(parameters: dict[str, Any]) -> GeneratedCorpus:
    """Plan the corpus from ``params:synthetic``; the catalog's ``raw_dataset`` writes it."""
    return synthetic.generate_corpus(parameters)
