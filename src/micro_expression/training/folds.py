"""Folds of the evaluation protocols (leave one subject out, leave one dataset out, train on
some datasets and test on others), and the fold list the training pipelines are built from."""

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

FOLD_COLUMNS = ["fold", "fold_number", "held_out_subject", "held_out_dataset", "clip_id",
                "subject", "dataset", "role"]
PROTOCOLS = ("loso", "leave_one_dataset_out", "cross_dataset")
"""``loso``: a fold per subject; ``leave_one_dataset_out``: a fold per dataset, trained on the
others; ``cross_dataset``: a fold per test dataset, trained on the training datasets."""


def trains_models(outputs: set[str]) -> bool:
    """Whether a pipeline with these ``outputs`` trains a fold's model."""
    return any(name.endswith(f".{MODEL}") for name in outputs)


@dataclass(frozen=True)
class SplitSettings:
    """The ``splitting`` parameters (see conf/base/parameters_splitting.yml)."""

    validation_subjects: int = 0
    seed: int = 42
    protocol: str = "loso"
    train_datasets: tuple[str, ...] = ()
    test_datasets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("validation_subjects", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"splitting.{name} must be an integer >= 0, got {value!r}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"splitting.protocol must be one of {', '.join(PROTOCOLS)}, got "
                             f"{self.protocol!r}")
        for name in ("train_datasets", "test_datasets"):
            object.__setattr__(self, name, _dataset_list(name, getattr(self, name)))
        named = bool(self.train_datasets or self.test_datasets)
        if self.protocol != "cross_dataset" and named:
            raise ValueError(
                "splitting.train_datasets and splitting.test_datasets are for protocol "
                f"cross_dataset; protocol {self.protocol} uses every dataset: leave them empty")
        if self.protocol == "cross_dataset":
            if not (self.train_datasets and self.test_datasets):
                raise ValueError("splitting.protocol cross_dataset needs both "
                                 "splitting.train_datasets and splitting.test_datasets")
            if both := sorted(set(self.train_datasets) & set(self.test_datasets)):
                raise ValueError(f"datasets {both} are in both splitting.train_datasets and "
                                 "splitting.test_datasets: a test dataset is never trained on")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SplitSettings:
        """Build from the ``splitting`` parameter block; unknown keys are an error."""
        return cls(**block_values(params, "splitting", cls.__dataclass_fields__))

    def held_out_datasets(self, datasets: Sequence[str]) -> list[str]:
        """The datasets that get a fold of their own, of the ``datasets`` there are."""
        if self.protocol == "loso":
            return []
        unknown = sorted(set(self.train_datasets + self.test_datasets) - set(datasets))
        if unknown:
            raise ValueError(f"splitting names datasets {unknown} that the data does not hold; "
                             f"its datasets: {sorted(datasets)}")
        held_out = sorted(self.test_datasets or datasets)
        if self.protocol == "leave_one_dataset_out" and len(held_out) < 2:
            raise ValueError("leave_one_dataset_out needs at least 2 datasets, got "
                             f"{held_out}: read a composite (dataset.name=composite, or a "
                             "generated one with synthetic.layout=casme2+mmew)")
        return held_out


def _dataset_list(name: str, value: Any) -> tuple[str, ...]:
    """A list of dataset names, or one string of them joined with ``+`` (``kedro run
    --params`` splits its argument on commas)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in value.split("+") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"splitting.{name} must be a list of dataset names or one string of "
                         f"them joined with '+', got {value!r}")
    names = tuple(v.strip() for v in value)
    if len(set(names)) != len(names):
        raise ValueError(f"splitting.{name} names a dataset twice: {list(names)}")
    return names


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
    _check_clip_table(clips)
    subjects = sorted(clips["subject"].unique())
    if len(subjects) < 2:
        raise ValueError(f"leave-one-subject-out needs at least 2 subjects, got {subjects}")
    everyone = pd.Series(True, index=clips.index)
    tables = [_fold_table(clips, FINAL_FOLD, 0, ~everyone, everyone, validation_subjects, seed)]
    for number, (name, subject) in enumerate(zip(fold_names(subjects), subjects), start=1):
        test = clips["subject"] == subject
        tables.append(_fold_table(clips, name, number, test, ~test, validation_subjects, seed,
                                  held_out_subject=subject))
    return pd.concat(tables, ignore_index=True)


def dataset_folds(clips: pd.DataFrame, settings: SplitSettings) -> pd.DataFrame:
    """A fold per held-out dataset (``settings.held_out_datasets``), plus ``final``.

    Fold ``n`` (1-based, datasets in sorted order) tests every clip of its dataset and trains
    on the other datasets (``leave_one_dataset_out``) or on ``settings.train_datasets``
    (``cross_dataset``); clips of neither are left out of the fold. ``final`` trains on what
    the folds train on together: every dataset, or the training datasets. Validation subjects
    are drawn from each fold's training subjects, as in :func:`loso_folds`.
    """
    _check_clip_table(clips)
    shared = clips.groupby("subject")["dataset"].nunique()
    if (shared > 1).any():
        raise ValueError(f"subjects {sorted(shared[shared > 1].index)[:5]} appear in more than "
                         "one dataset: a dataset fold would train and test on them")
    held_out = settings.held_out_datasets(sorted(clips["dataset"].unique()))
    trained = (clips["dataset"].isin(settings.train_datasets) if settings.train_datasets
               else pd.Series(True, index=clips.index))
    validation, seed = settings.validation_subjects, settings.seed
    nothing = pd.Series(False, index=clips.index)
    tables = [_fold_table(clips, FINAL_FOLD, 0, nothing, trained, validation, seed)]
    for number, (name, dataset) in enumerate(zip(fold_names(held_out), held_out), start=1):
        test = clips["dataset"] == dataset
        tables.append(_fold_table(clips, name, number, test, trained & ~test, validation, seed,
                                  held_out_dataset=dataset))
    return pd.concat(tables, ignore_index=True)


def protocol_folds(clips: pd.DataFrame, settings: SplitSettings) -> pd.DataFrame:
    """The folds of ``settings.protocol`` over ``clips``."""
    if settings.protocol == "loso":
        return loso_folds(clips, settings.validation_subjects, settings.seed)
    return dataset_folds(clips, settings)


def _check_clip_table(clips: pd.DataFrame) -> None:
    missing = {"clip_id", "subject", "dataset"} - set(clips.columns)
    if missing:
        raise KeyError(f"clip table lacks columns {sorted(missing)}")


def _fold_table(
    clips: pd.DataFrame,
    name: str,
    number: int,
    test: pd.Series,
    train: pd.Series,
    validation_subjects: int,
    seed: int,
    held_out_subject: str | None = None,
    held_out_dataset: str | None = None,
) -> pd.DataFrame:
    """One fold's rows: ``test`` clips, ``train`` clips with ``validation_subjects`` of their
    subjects (drawn with ``(seed, number)``) moved to validation; other clips are left out."""
    training_subjects = sorted(clips.loc[train, "subject"].unique())
    if validation_subjects > len(training_subjects) - 1:
        raise ValueError(
            f"validation_subjects must be in [0, {max(len(training_subjects) - 1, 0)}] for fold "
            f"{name}'s {len(training_subjects)} training subjects (each fold keeps at least one "
            f"training subject), got {validation_subjects}")
    rng = np.random.default_rng([seed, number])
    validation = set(rng.choice(training_subjects, size=validation_subjects, replace=False)
                     .tolist())
    rows = clips[test | train]
    role = np.where(test[rows.index], "test",
                    np.where(rows["subject"].isin(validation), "validation", "train"))
    table = rows[["clip_id", "subject", "dataset"]].assign(
        fold=name, fold_number=number, held_out_subject=held_out_subject,
        held_out_dataset=held_out_dataset, role=role)
    return table[FOLD_COLUMNS]


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


_RUN_CONFIG: dict[str, Any] = {}
"""The project and config loader of the session being run (``--params`` included), set by
:func:`use_run_config` when its context is created."""


def use_run_config(project_path: Path, config_loader: Any) -> None:
    """Register the fold pipelines from this run's configuration, ``--params`` included: the
    pipelines Kedro built from the files on disk are built again when next asked for."""
    from kedro.framework.project import pipelines

    _RUN_CONFIG.clear()
    _RUN_CONFIG.update(project_path=Path(project_path).resolve(), config_loader=config_loader)
    # configure() drops the built pipelines but also the session's choice of which to build
    # (kedro has no getter for it), so that choice is put back.
    requested = pipelines._requested_pipelines
    pipelines.configure(f"{__name__.split('.')[0]}.pipeline_registry")
    pipelines.set_requested(requested)


def registered_subjects(project_path: Path | None = None, env: str | None = None) -> list[str]:
    """The subjects that get a fold pipeline, known when the pipelines are registered.

    Pipelines are registered before any node runs, so the list comes from the configuration
    (the running session's, with its ``--params``, once its context exists) and from what is
    on disk, in this order:

    1. parameter ``training.subjects`` (a list),
    2. the generated corpus's plan, when the ``raw_dataset`` entry reads ``synthetic``
       (``synthetic.subjects`` and ``synthetic.layout`` say which subjects ingestion names),
    3. the subjects of the clip index, at the ``clip_index`` catalog entry's ``filepath``
       (default ``data/02_intermediate/clip_index.parquet``) when that file exists,
    4. the generated corpus's plan, when the catalog has no ``raw_dataset`` entry.

    ``project_path`` defaults to the Kedro project around the working directory, else the one
    this package is installed from; ``env`` defaults to ``$KEDRO_ENV``.
    """
    root, config = _registration_config(project_path, env)
    parameters = config["parameters"]
    listed = (parameters.get("training") or {}).get("subjects")
    if listed:
        return sorted(str(s) for s in listed)
    source = _data_source(config)
    if source.get("name") == "synthetic":
        return _generated(parameters).subject_ids()
    clip_index = root / _filepath(config["catalog"].get("clip_index") or {})
    if clip_index.is_file():
        subjects = pd.read_parquet(clip_index, columns=["subject"])["subject"].unique()
        if len(subjects):
            return sorted(str(s) for s in subjects)
    if not source and parameters.get("synthetic"):
        return _generated(parameters).subject_ids()
    raise ValueError(
        f"cannot tell which subjects to build fold pipelines for: no `training.subjects` "
        f"parameter, no clip index at {clip_index}, and no `synthetic.subjects` parameter in "
        f"{root / 'conf'}. Run `kedro run --pipelines ingestion` first or list the subjects "
        "in conf/local/parameters_training.yml."
    )


def registered_datasets(project_path: Path | None = None, env: str | None = None) -> list[str]:
    """The datasets a run reads, by the names its clips carry: the generated corpus's parts,
    a composite's parts given a root (``dataset.roots``), else the one dataset read."""
    from micro_expression.readers.labels import COMPOSITE_PARTS

    _, config = _registration_config(project_path, env)
    source = _data_source(config)
    name = source.get("name")
    if name == "synthetic" or (not source and config["parameters"].get("synthetic")):
        return _generated(config["parameters"]).datasets()
    if name == "composite":
        roots = source.get("roots") or {}
        return [part for part in COMPOSITE_PARTS if roots.get(part) is not None]
    if name is None:
        raise ValueError("cannot tell which datasets a run reads: the catalog has no "
                         "`raw_dataset` entry naming one")
    return [str(name)]


def registered_folds(project_path: Path | None = None, env: str | None = None) -> list[str]:
    """The fold namespaces of the training pipeline, by ``splitting.protocol``: one per subject
    (:func:`registered_subjects`) or one per held-out dataset (:func:`registered_datasets`)."""
    _, config = _registration_config(project_path, env)
    settings = SplitSettings.from_params(config["parameters"].get("splitting") or {})
    if settings.protocol == "loso":
        return fold_names(registered_subjects(project_path, env))
    return fold_names(settings.held_out_datasets(registered_datasets(project_path, env)))


def _registration_config(project_path: Path | None, env: str | None) -> tuple[Path, Any]:
    """The project root and its config loader: the running session's when it is this project's
    (and no other ``env`` is asked for), else one made from the files."""
    root = Path(project_path or _project_path()).resolve()
    if env is None and _RUN_CONFIG.get("project_path") == root:
        return root, _RUN_CONFIG["config_loader"]
    return root, _config_loader(root, env or os.environ.get("KEDRO_ENV"))


def _data_source(config: Any) -> dict[str, Any]:
    """The ``raw_dataset`` catalog entry, its runtime parameters resolved ({} when absent)."""
    return config["catalog"].get("raw_dataset") or {}


def _generated(parameters: dict[str, Any]) -> Any:
    """The generated corpus's plan (specs only: cheap) from the ``synthetic`` block."""
    from micro_expression.synthetic import generate_corpus

    return generate_corpus(parameters.get("synthetic") or {})


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
