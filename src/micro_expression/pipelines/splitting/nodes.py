"""Nodes of the splitting pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from micro_expression.training.folds import SplitSettings, protocol_folds


def make_folds(preprocessed_index: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The folds of ``splitting.protocol`` over the stored clips, plus ``final``."""
    return protocol_folds(preprocessed_index, SplitSettings.from_params(params))
