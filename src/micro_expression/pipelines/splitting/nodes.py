"""Nodes of the splitting pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from micro_expression.training.folds import SplitSettings, loso_folds


def make_loso_folds(preprocessed_index: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Leave-one-subject-out folds, plus ``final`` on all subjects, over the stored clips."""
    settings = SplitSettings.from_params(params)
    return loso_folds(
        preprocessed_index, validation_subjects=settings.validation_subjects, seed=settings.seed
    )
