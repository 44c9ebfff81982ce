"""Leave-one-subject-out folds, and the subject list the fold pipelines are built from."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from micro_expression.parameters import block_values

FINAL_FOLD = "final"
# Node and dataset names inside each fold's namespace (the training pipeline builds them, the
# fold tracking hooks look for them).
TRAIN_NODE, TRAIN_TEST_NODE = "train_fold", "train_and_test_fold"
MODEL, LOSS_HISTORY, PREDICTIONS = "fold_model", "fold_loss_history", "fold_predictions"
ROLES = ("train", "validation", "test")
DEFAULT_CLIP_INDEX = "data/02_intermediate/clip_index.parquet"

FOLD_COLUMNS = ["fold", "fold_number", "held_out_subject", "clip_id", "subject", "dataset", "role"]


def trains_models(outputs: set[str]) -> bool:
    """Whether a pipeline with these ``outputs`` trains a fold's model."""
    return any(name.endswith(f".{MODEL}") for name in outputs)


@dataclass(frozen=True)
class SplitSettings:
    """The ``splitting`` parameters (see conf/base/parameters_splitting.yml)."""

    validation_subjects: int = 0
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("validation_subjects", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"splitting.{name} must be an integer >= 0, got {value!r}")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SplitSettings:
        """Build from the ``splitting`` parameter block; unknown keys are an error."""
        return cls(**block_values(params, "splitting", cls.__dataclass_fields__))


def fold_name(subject: str) -> str:
    """Namespace of the fold that holds ``subject`` out (``a/sub01`` -> ``fold_a_sub01``)."""
    return "fold_" + re.sub(r"[^0-9A-Za-z_]", "_", subject)


def fold_names(subjects: Sequence[str]) -> list[str]:
    """One fold name per subject, in order; two subjects that sanitise to one name are an error."""
    names = [fold_name(s) for s in subjects]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"subjects give the same fold name {clashes}: rename them")
    return names


def loso_folds(clips: pd.DataFrame, validation_subjects: int = 0, seed: int = 0) -> pd.DataFrame:
    """Leave-one-subject-out folds of ``clips`` (clip_id, subject, dataset), plus ``final``.

    Fold ``n`` (1-based, subjects in sorted order) tests the clips of its subject and trains on
    every other subject's clips; ``final`` (number 0) trains on all subjects and tests none.
    With ``validation_subjects > 0`` each fold moves that many of its *training* subjects, drawn
    with a generator seeded by ``(seed, fold number)``, to the ``validation`` role, so model
    selection never sees the held-out subject. One row per (fold, clip): ``FOLD_COLUMNS``.
    """
    missing = {"clip_id", "subject", "dataset"} - set(clips.columns)
    if missing:
        raise KeyError(f"clip table lacks columns {sorted(missing)}")
    subjects = sorted(clips["subject"].unique())
    if len(subjects) < 2:
        raise ValueError(f"leave-one-subject-out needs at least 2 subjects, got {subjects}")
    if validation_subjects < 0 or validation_subjects > len(subjects) - 2:
        raise ValueError(
            f"validation_subjects must be in [0, {len(subjects) - 2}] for {len(subjects)} subjects "
            f"(each fold keeps at least one training subject), got {validation_subjects}"
        )
    names = fold_names(subjects)
    folds = [(FINAL_FOLD, 0, None), *zip(names, range(1, len(subjects) + 1), subjects)]
    tables = []
    for name, number, held_out in folds:
        rest = [s for s in subjects if s != held_out]
        rng = np.random.default_rng([seed, number])
        validation = set(rng.choice(rest, size=validation_subjects, replace=False).tolist())
        role = np.where(
            clips["subject"] == held_out,
            "test",
            np.where(clips["subject"].isin(validation), "validation", "train"),
        )
        table = clips[["clip_id", "subject", "dataset"]].assign(
            fold=name, fold_number=number, held_out_subject=held_out, role=role
        )
        tables.append(table[FOLD_COLUMNS])
    return pd.concat(tables, ignore_index=True)


def fold_clips(folds: pd.DataFrame, fold: str) -> pd.DataFrame:
    """The rows of one fold; a clear error when the fold is not in the table."""
    rows = folds[folds["fold"] == fold]
    if rows.empty:
        known = sorted(folds["fold"].unique())
        raise ValueError(
            f"fold '{fold}' is not in the folds table (folds: {known}). The training pipelines "
            "were built from a subject list that differs from the preprocessed clips: set "
            "`training.subjects` or rerun ingestion so data/02_intermediate/clip_index.parquet "
            "is current."
        )
    return rows


def registered_subjects(project_path: Path | None = None, env: str | None = None) -> list[str]:
    """The subjects that get a fold pipeline, known when the pipelines are registered.

    Pipelines are registered before any node runs (and before ``--params`` reach the config),
    so the list comes from what is on disk, in this order:

    1. parameter ``training.subjects`` (a list) in the project's ``conf/`` (base + ``env``),
    2. the subjects of the clip index, at the ``clip_index`` catalog entry's ``filepath``
       (default ``data/02_intermediate/clip_index.parquet``) when that file exists,
    3. the generated corpus: parameter ``synthetic.subjects`` = N gives ``synthetic/sub01`` ..
       ``synthetic/subNN``, as ingestion names them.

    ``project_path`` defaults to the Kedro project around the working directory, else the one
    this package is installed from; ``env`` defaults to ``$KEDRO_ENV``.
    """
    root = project_path or _project_path()
    config = _config_loader(root, env or os.environ.get("KEDRO_ENV"))
    parameters = config["parameters"]
    listed = (parameters.get("training") or {}).get("subjects")
    if listed:
        return sorted(str(s) for s in listed)
    clip_index = root / _filepath(config["catalog"].get("clip_index") or {})
    if clip_index.is_file():
        subjects = pd.read_parquet(clip_index, columns=["subject"])["subject"].unique()
        if len(subjects):
            return sorted(str(s) for s in subjects)
    synthetic_subjects = (parameters.get("synthetic") or {}).get("subjects")
    if synthetic_subjects:
        return [f"synthetic/sub{n:02d}" for n in range(1, int(synthetic_subjects) + 1)]
    raise ValueError(
        f"cannot tell which subjects to build fold pipelines for: no `training.subjects` "
        f"parameter, no clip index at {clip_index}, and no `synthetic.subjects` parameter in "
        f"{root / 'conf'}. Run `kedro run --pipelines ingestion` first or list the subjects "
        "in conf/local/parameters_training.yml."
    )


def registered_folds() -> list[str]:
    """Fold names of :func:`registered_subjects`, the namespaces of the training pipeline."""
    return fold_names(registered_subjects())


def _filepath(entry: dict) -> str:
    """A catalog entry's file, looking inside wrappers such as kedro-mlflow's artifact dataset."""
    while "filepath" not in entry and isinstance(entry.get("dataset"), dict):
        entry = entry["dataset"]
    return entry.get("filepath", DEFAULT_CLIP_INDEX)


def _project_path() -> Path:
    from kedro.utils import find_kedro_project

    found = find_kedro_project(Path.cwd())
    if found is not None:
        return Path(found)
    # Editable install: src/micro_expression/training/folds.py -> project root.
    return Path(__file__).resolve().parents[3]


def _config_loader(root: Path, env: str | None) -> Any:
    from kedro.framework.project import settings

    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(root / settings.CONF_SOURCE), env=env, **settings.CONFIG_LOADER_ARGS
    )
