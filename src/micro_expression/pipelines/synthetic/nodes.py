"""Nodes of the synthetic pipeline."""

from __future__ import annotations

from typing import Any

from micro_expression import synthetic
from micro_expression.synthetic import GeneratedCorpus


def plan_corpus(params: dict[str, Any]) -> GeneratedCorpus:
    """The corpus ``params:synthetic`` describes, as specs (cheap: no pixels yet); saving it
    to the catalog's ``raw_dataset`` renders and writes what is missing or stale."""
    return synthetic.generate_corpus(synthetic.parse_params(params))
