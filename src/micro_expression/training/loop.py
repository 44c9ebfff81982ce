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

from micro_expression.model import (
    ARCHITECTURES,
    LossReduction,
    LossWeights,
    build_model,
    input_key,
    mol_loss,
)
from micro_expression.model.flow_net import LAYERS
from micro_expression.model.initialisation import INITS
from micro_expression.model.landmark_head import OUTPUTS
from micro_expression.model.layers import BATCH_NORMS
from micro_expression.parameters import block_values
from micro_expression.training.data import ClipSamples
from micro_expression.training.device import autocast, select_device

DECAYS = ("cosine", "constant")
MODEL_CHOICES = {
    "init": INITS,
    "flow_layers": LAYERS,
    "batch_norm": BATCH_NORMS,
    "landmark_output": OUTPUTS,
}
"""MOL choices where the public code differs, and their values (the first is the standard)."""
NESTED = {
    "tasks": {"flow": "flow", "landmarks": "landmarks"},
    "early_stopping": {"every": "validation_every", "patience": "patience"},
    "input": {"representation": "representation", "normalisation": "normalisation"},
    "schedule": {"warmup_steps": "warmup_steps", "decay": "decay"},
}
"""Parameter blocks of ``training`` and the config field each of their keys sets."""


@dataclass(frozen=True)
class TrainingConfig:
    """The ``training`` parameters, validated (see conf/base/parameters_training.yml)."""

    seed: int = 42
    classes: tuple[str, ...] | None = None
    model: str = "mol"
    preset: str = "small"
    variant: str = "standard"
    graph: str | None = None
    k: int = 4
    representation: str = "frames_and_change"
    normalisation: str = "frame"
    init: str = "standard"
    flow_layers: str = "standard"
    batch_norm: str = "batched"
    landmark_output: str = "normalised"
    steps: int = 200
    batch_size: int = 8
    learning_rate: float = 2e-3
    warmup_steps: int = 20
    decay: str = "cosine"
    weight_decay: float = 1e-3
    max_grad_norm: float | None = 1.0
    loss_weights: LossWeights = field(default_factory=LossWeights)
    loss_reduction: LossReduction = field(default_factory=LossReduction)
    flow: bool = True
    landmarks: bool = True
    validation_every: int = 20
    patience: int = 5
    device: str = "auto"
    threads: int | None = None
    workers: int = 0
    keep_clips_in_memory: bool = True
    reproduce_eval_mode_fault: bool = False
    system_metrics: bool = True

    def __post_init__(self) -> None:
        for name, choices in MODEL_CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"training.{name} must be one of {list(choices)}, got "
                                 f"{getattr(self, name)!r}")
        for name in ("reproduce_eval_mode_fault", "system_metrics"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"training.{name} must be true or false, got "
                                 f"{getattr(self, name)!r}")
        if self.model not in ARCHITECTURES:
            raise ValueError(f"training.model must be one of {list(ARCHITECTURES)}, got "
                             f"{self.model!r}")
        if self.decay not in DECAYS:
            raise ValueError(f"training.schedule.decay must be one of {list(DECAYS)}, got "
                             f"{self.decay!r}")
        if self.steps < 1 or not 0 <= self.warmup_steps < self.steps:
            raise ValueError(
                f"training.steps must be >= 1 and training.schedule.warmup_steps in [0, steps), "
                f"got steps {self.steps}, warmup_steps {self.warmup_steps}"
            )
        for name, value, least in (("batch_size", self.batch_size, 1),
                                   ("early_stopping.every", self.validation_every, 1),
                                   ("workers", self.workers, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"training.{name} must be an integer >= {least}, got {value!r}")
        try:
            # Here, not in the first fold: the run's parameter check builds this config
            # before any MLflow run opens.
            select_device(self.device)
        except ValueError as error:
            raise ValueError(f"training.device: {error}") from None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TrainingConfig:
        """Build from the ``training`` parameter dict; unknown keys are an error.

        The blocks ``tasks`` (heads), ``early_stopping``, ``input`` and ``schedule`` set the
        fields :data:`NESTED` names; ``subjects`` is read when the pipelines are registered,
        not here.
        """
        values = block_values(params, "training", cls.__dataclass_fields__, NESTED,
                              ignored=("subjects",))
        for name, field_name in NESTED["tasks"].items():
            flag = values.get(field_name, True)
            if not isinstance(flag, bool):
                raise ValueError(f"training.tasks.{name} must be true or false, got {flag!r}")
        if values.get("classes") is not None:
            values["classes"] = tuple(values["classes"])
        for name, kind in (("loss_weights", LossWeights), ("loss_reduction", LossReduction)):
            fields = kind.__dataclass_fields__
            block = block_values(values.get(name) or {}, f"training.{name}", fields)
            values[name] = kind(**block)
        for name in ("validation_every", "patience", "warmup_steps", "steps"):
            if name in values:
                values[name] = int(values[name])
        return cls(**values)

    def model_args(self, n_classes: int) -> dict[str, Any]:
        """Keyword arguments of :func:`micro_expression.model.build_model`."""
        if self.model == "flow_baseline":
            return {"architecture": self.model, "n_classes": n_classes}
        return {
            "architecture": self.model,
            "preset": self.preset,
            "n_classes": n_classes,
            "variant": self.variant,
            "graph": self.graph,
            "k": self.k,
            "representation": self.representation,
            "normalisation": self.normalisation,
            **{name: getattr(self, name) for name in MODEL_CHOICES},
            "with_flow": self.flow,
            "with_landmarks": self.landmarks,
        }

    def sample_fields(self) -> tuple[str, ...]:
        """What a training sample must hold (:data:`~micro_expression.training.data.FIELDS`):
        the model's input, plus the targets of the heads it trains."""
        if self.model == "flow_baseline":
            return ("apex_flow",)
        targets = [name for name, on in (("flow", self.flow), ("landmarks", self.landmarks)) if on]
        return ("frames", *targets)

    def learning_rate_factor(self, step: int) -> float:
        """Multiplier of ``learning_rate`` at 0-based ``step``: linear warm-up from
        1 / warmup_steps to 1, then constant or a cosine decay to 0 at ``steps``."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.decay == "constant":
            return 1.0
        progress = (step - self.warmup_steps) / (self.steps - self.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class TrainedModel:
    """Weights of a trained fold model, its loss history and where selection stopped."""

    state_dict: dict[str, torch.Tensor]
    history: pd.DataFrame
    best_step: int


def load_model(checkpoint: dict[str, Any], device: torch.device | str = "cpu") -> torch.nn.Module:
    """The model a checkpoint (``model`` build args + ``state_dict``) describes, in eval mode."""
    model = build_model(**checkpoint["model"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval()


def batch_targets(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """The loss targets a batch holds (labels, and flow and landmarks where read), on ``device``."""
    targets = {"labels": batch["label"].to(device)}
    targets.update({k: batch[k].to(device) for k in ("flow", "landmarks") if k in batch})
    return targets


def train_model(
    train: ClipSamples,
    validation: ClipSamples | None,
    n_classes: int,
    config: TrainingConfig,
    seed: int,
    description: str = "training",
) -> TrainedModel:
    """AdamW for ``config.steps`` steps on random crops of ``train``, the learning rate warmed
    up and decayed as ``config`` says (:meth:`TrainingConfig.learning_rate_factor`), the
    gradient norm clipped at ``config.max_grad_norm`` (None: not clipped).

    With ``validation`` clips, their mean loss is computed every ``validation_every`` steps; the
    weights with the lowest validation loss are kept and training stops after ``patience``
    evaluations without improvement. Without them the last weights are kept. Seeds torch with
    ``seed`` (weights, shuffling, crops), so a CPU run repeats exactly.

    ``config.reproduce_eval_mode_fault`` trains from the second pass over ``train`` on in eval
    mode (frozen batch-norm statistics, no dropout), as the public code does: its per-epoch
    evaluation switches to eval mode and nothing switches back (``train.py:12, 94``).
    """
    if len(train) == 0:
        raise ValueError(f"{description}: no training samples")
    device = select_device(config.device)
    torch.manual_seed(seed)
    model = build_model(**config.model_args(n_classes))
    if hasattr(model, "to_channels_last"):
        # Channels-last conv weights: the faster layout for oneDNN on CPU and for tensor cores.
        model.to_channels_last()
    model.to(device)
    inputs = input_key(config.model)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, config.learning_rate_factor)
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
            # The fault, when reproduced: after the first epoch the model never leaves eval mode.
            training_mode = not (config.reproduce_eval_mode_fault and epoch > 0)
            for batch in loader:
                model.train(training_mode)
                with autocast(device):
                    output = model(batch[inputs].to(device))
                    losses = mol_loss(output, batch_targets(batch, device), config.loss_weights,
                                      config.loss_reduction)
                optimiser.zero_grad(set_to_none=True)
                losses["total"].backward()
                if config.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                learning_rate = schedule.get_last_lr()[0]
                optimiser.step()
                schedule.step()
                step += 1
                record = {"step": step, "epoch": epoch, "learning_rate": learning_rate}
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
            output = model(batch[input_key(config.model)].to(device))
            losses = mol_loss(output, batch_targets(batch, device), config.loss_weights,
                              config.loss_reduction)
        n = batch["label"].shape[0]
        for key, value in losses.items():
            totals[key] = totals.get(key, 0.0) + float(value) * n
    return {k: v / len(clips) for k, v in totals.items()}
