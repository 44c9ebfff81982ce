"""Nodes of the training pipeline: train one fold and predict its held-out subject, in one
node, so that a fold's run spans its own training and scoring under any runner.

torch and the model code are imported inside the nodes, so that commands which only list or
run other pipelines (every `kedro` command loads this module) start without them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# at run time, not under TYPE_CHECKING: Kedro reads the nodes' type hints when it builds them
from micro_expression.io.clip_cache import ClipCache
from micro_expression.training.folds import fold_clips


def train_fold(
    folds: pd.DataFrame,
    preprocessed_index: pd.DataFrame,
    preprocessed_clips: ClipCache,
    preprocessing_manifest: dict[str, Any],
    params: dict[str, Any],
    fold: str,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train a fresh model on the fold's training clips: (checkpoint, loss history).

    The checkpoint carries how its data was preprocessed (``preprocessing_manifest``), so
    the model can prepare new recordings the same way.
    """
    from micro_expression.training.data import ClipSamples, class_names, fold_clip_table
    from micro_expression.training.device import set_cpu_threads
    from micro_expression.training.loop import TrainingConfig, train_model

    config = TrainingConfig.from_params(params)
    rows = fold_clips(folds, fold)
    classes = class_names(preprocessed_index, config.classes)
    clips = fold_clip_table(preprocessed_index, rows, classes)
    seed = config.seed + int(rows["fold_number"].iloc[0])
    held_out = rows.iloc[0][["held_out_subject", "held_out_dataset"]]
    set_cpu_threads(config.threads)
    keep, fields = config.keep_clips_in_memory, config.sample_fields()
    train, validation = (clips[clips["role"] == role] for role in ("train", "validation"))
    trained = train_model(
        ClipSamples(train, preprocessed_clips, True, seed, keep, fields),
        ClipSamples(validation, preprocessed_clips, False, seed, keep, fields)
        if len(validation)
        else None,
        len(classes),
        config,
        seed,
        description=fold,
    )
    checkpoint = {
        "fold": fold,
        "held_out_subject": _value_or_none(held_out["held_out_subject"]),
        "held_out_dataset": _value_or_none(held_out["held_out_dataset"]),
        "seed": seed,
        "classes": classes,
        "model": config.model_args(len(classes)),
        "best_step": trained.best_step,
        "n_train_clips": len(train),
        "n_validation_clips": len(validation),
        "preprocessing": preprocessing_manifest["settings"],
        "clip_frames": preprocessing_manifest["clip_frames"],
        "preprocessed_keys_digest": preprocessing_manifest["preprocessed_keys_digest"],
        "state_dict": trained.state_dict,
    }
    return checkpoint, trained.history.assign(fold=fold)


def _value_or_none(value: Any) -> Any:
    return value if pd.notna(value) else None


def train_and_test_fold(
    folds: pd.DataFrame,
    preprocessed_index: pd.DataFrame,
    preprocessed_clips: ClipCache,
    preprocessing_manifest: dict[str, Any],
    params: dict[str, Any],
    fold: str,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """:func:`train_fold`, then :func:`predict_held_out` with its model: (checkpoint, loss
    history, per-clip predictions)."""
    checkpoint, history = train_fold(
        folds, preprocessed_index, preprocessed_clips, preprocessing_manifest, params, fold
    )
    predictions = predict_held_out(
        checkpoint, folds, preprocessed_index, preprocessed_clips, params, fold
    )
    return checkpoint, history, predictions


def predict_held_out(
    checkpoint: dict[str, Any],
    folds: pd.DataFrame,
    preprocessed_index: pd.DataFrame,
    preprocessed_clips: ClipCache,
    params: dict[str, Any],
    fold: str,
) -> pd.DataFrame:
    """Per-clip predictions of the fold's model on its held-out clips (centre windows)."""
    from micro_expression.model import input_key
    from micro_expression.training.data import ClipSamples, fold_clip_table
    from micro_expression.training.device import select_device, set_cpu_threads
    from micro_expression.training.loop import TrainingConfig, load_model
    from micro_expression.training.predict import aggregate_clips, predict_samples

    config = TrainingConfig.from_params(params)
    classes = checkpoint["classes"]
    clips = fold_clip_table(preprocessed_index, fold_clips(folds, fold), classes)
    test = clips[clips["role"] == "test"].reset_index(drop=True)
    set_cpu_threads(config.threads)
    device = select_device(config.device)
    samples = predict_samples(
        load_model(checkpoint, device),
        ClipSamples(test, preprocessed_clips, augment=False, fields=config.sample_fields()),
        device,
        config.batch_size,
        input_key(config.model),
    )
    return aggregate_clips(test, samples, classes).assign(fold=fold)
