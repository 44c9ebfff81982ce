"""Train one MOL model on one fold's training clips."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from micro_expression.model import LossWeights, build_mol, mol_loss
from micro_expression.training.data import ClipSamples
from micro_expression.training.device import autocast, select_device

TASKS = ("flow", "landmarks")
EARLY_STOPPING = {"every": "validation_every", "patience": "patience"}


@dataclass(frozen=True)
class TrainingConfig:
    """The ``training`` parameters, validated (see conf/base/parameters_training.yml)."""

    seed: int = 42
    classes: tuple[str, ...] | None = None
    preset: str = "small"
    graph: str = "channel"
    k: int = 4
    steps: int = 100
    batch_size: int = 8
    learning_rate: float = 1e-4
    weight_decay: float = 1e-3
    loss_weights: LossWeights = field(default_factory=LossWeights)
    flow: bool = True
    landmarks: bool = True
    validation_every: int = 20
    patience: int = 5
    device: str = "auto"
    threads: int | None = None
    workers: int = 0
    keep_clips_in_memory: bool = True

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TrainingConfig:
        """Build from the ``training`` parameter dict; unknown keys are an error.

        ``tasks.flow`` / ``tasks.landmarks`` switch the heads, ``early_stopping.every`` /
        ``.patience`` set the validation schedule; ``subjects`` is read when the pipelines are
        registered, not here.
        """
        params = {k: v for k, v in params.items() if k != "subjects"}
        tasks = dict(params.pop("tasks", None) or {})
        early = dict(params.pop("early_stopping", None) or {})
        top_level = set(cls.__dataclass_fields__) - set(TASKS) - set(EARLY_STOPPING.values())
        unknown = (
            sorted(set(params) - top_level)
            + [f"tasks.{k}" for k in sorted(set(tasks) - set(TASKS))]
            + [f"early_stopping.{k}" for k in sorted(set(early) - set(EARLY_STOPPING))]
        )
        if unknown:
            raise ValueError(f"unknown training parameters: {unknown}")
        for name, flag in tasks.items():
            if not isinstance(flag, bool):
                raise ValueError(f"training.tasks.{name} must be true or false, got {flag!r}")
        if params.get("classes") is not None:
            params["classes"] = tuple(params["classes"])
        params["loss_weights"] = LossWeights(**(params.get("loss_weights") or {}))
        return cls(**params, **tasks, **{EARLY_STOPPING[k]: int(v) for k, v in early.items()})

    def model_args(self, n_classes: int) -> dict[str, Any]:
        """Keyword arguments of :func:`micro_expression.model.build_mol`."""
        return {
            "preset": self.preset,
            "n_classes": n_classes,
            "graph": self.graph,
            "k": self.k,
            "with_flow": self.flow,
            "with_landmarks": self.landmarks,
        }


@dataclass
class TrainedModel:
    """Weights of a trained fold model, its loss history and where selection stopped."""

    state_dict: dict[str, torch.Tensor]
    history: pd.DataFrame
    best_step: int


def load_model(checkpoint: dict[str, Any], device: torch.device | str = "cpu") -> torch.nn.Module:
    """The model a checkpoint (``model`` build args + ``state_dict``) describes, in eval mode."""
    model = build_mol(**checkpoint["model"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval()


def batch_targets(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """The loss targets of a batch, on ``device``."""
    return {
        "labels": batch["label"].to(device),
        "flow": batch["flow"].to(device),
        "landmarks": batch["landmarks"].to(device),
    }


def train_model(
    train: ClipSamples,
    validation: ClipSamples | None,
    n_classes: int,
    config: TrainingConfig,
    seed: int,
    description: str = "training",
) -> TrainedModel:
    """AdamW for ``config.steps`` steps on random crops of ``train``.

    With ``validation`` clips, their mean loss is computed every ``validation_every`` steps; the
    weights with the lowest validation loss are kept and training stops after ``patience``
    evaluations without improvement. Without them the last weights are kept. Seeds torch with
    ``seed`` (weights, shuffling, crops), so a CPU run repeats exactly.
    """
    if len(train) == 0:
        raise ValueError(f"{description}: no training samples")
    device = select_device(config.device)
    torch.manual_seed(seed)
    # Channels-last conv weights: the faster layout for oneDNN on CPU and for tensor cores.
    model = build_mol(**config.model_args(n_classes)).to_channels_last().to(device)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    loader = DataLoader(
        train,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=len(train) > config.batch_size,
        num_workers=config.workers,
        generator=torch.Generator().manual_seed(seed),
    )
    records: list[dict[str, float]] = []
    best_loss, best_step, best_state, stale = math.inf, 0, None, 0
    step, epoch, started = 0, 0, time.perf_counter()
    with tqdm(total=config.steps, desc=description, unit="step") as progress:
        while step < config.steps and stale < config.patience:
            train.set_epoch(epoch)
            for batch in loader:
                model.train()
                with autocast(device):
                    output = model(batch["frames"].to(device))
                    losses = mol_loss(output, batch_targets(batch, device), config.loss_weights)
                optimiser.zero_grad(set_to_none=True)
                losses["total"].backward()
                optimiser.step()
                step += 1
                record = {"step": step, "epoch": epoch}
                record.update({f"train_{k}": float(v.detach()) for k, v in losses.items()})
                due = step % config.validation_every == 0 or step == config.steps
                if validation is not None and due:
                    validation_losses = mean_losses(model, validation, config, device)
                    record.update({f"validation_{k}": v for k, v in validation_losses.items()})
                    if validation_losses["total"] < best_loss:
                        best_loss, best_step, stale = validation_losses["total"], step, 0
                        best_state = copy.deepcopy(model.state_dict())
                    else:
                        stale += 1
                record["elapsed_s"] = time.perf_counter() - started
                records.append(record)
                progress.update()
                progress.set_postfix(loss=f"{record['train_total']:.3f}")
                if step >= config.steps or stale >= config.patience:
                    break
            epoch += 1
    state = best_state if best_state is not None else model.state_dict()
    return TrainedModel(
        state_dict={k: v.detach().cpu() for k, v in state.items()},
        history=pd.DataFrame.from_records(records),
        best_step=best_step if best_state is not None else step,
    )


@torch.no_grad()
def mean_losses(
    model: torch.nn.Module, clips: ClipSamples, config: TrainingConfig, device: torch.device
) -> dict[str, float]:
    """Sample-weighted mean of each loss term over ``clips`` (centre crops), in eval mode."""
    model.eval()
    totals: dict[str, float] = {}
    for batch in DataLoader(clips, batch_size=config.batch_size, num_workers=config.workers):
        with autocast(device):
            losses = mol_loss(model(batch["frames"].to(device)), batch_targets(batch, device),
                              config.loss_weights)
        n = batch["label"].shape[0]
        for key, value in losses.items():
            totals[key] = totals.get(key, 0.0) + float(value) * n
    return {k: v / len(clips) for k, v in totals.items()}
