from pathlib import Path

import pytest
import torch
import yaml
from kedro.framework.startup import bootstrap_project

from micro_expression.io.clip_cache import ClipCache
from micro_expression.model import LossReduction, LossWeights
from micro_expression.training.data import ClipSamples
from micro_expression.training.folds import _config_loader
from micro_expression.training.loop import TrainingConfig, load_model, mean_losses, train_model
from tests.training.corpus import write_corpus

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    index = write_corpus(folder, subjects=2)
    index = index.assign(target=index["label_id"])
    store = ClipCache(folder)
    train = ClipSamples(index[index["subject"] == "synthetic/sub01"], store, augment=True, seed=1)
    validation = ClipSamples(index[index["subject"] == "synthetic/sub02"], store, augment=False)
    return train, validation


def tiny(**overrides):
    return TrainingConfig.from_params(
        {"steps": 6, "batch_size": 3, "learning_rate": 1e-3, "threads": 1,
         "schedule": {"warmup_steps": 0}, **overrides}
    )


def test_training_on_cpu_repeats_exactly_and_reduces_the_loss(samples):
    train, _ = samples
    torch.set_num_threads(1)
    first = train_model(train, None, 3, tiny(), seed=7)
    second = train_model(train, None, 3, tiny(), seed=7)
    assert first.history.drop(columns="elapsed_s").equals(second.history.drop(columns="elapsed_s"))
    for name, tensor in first.state_dict.items():
        assert torch.equal(tensor, second.state_dict[name]), name
    losses = first.history["train_total"]
    assert losses.tail(2).mean() < losses.iloc[0]
    assert {"train_mer", "train_flow", "train_landmarks"} <= set(first.history.columns)
    assert first.best_step == 6


def test_another_seed_gives_another_model(samples):
    train, _ = samples
    first = train_model(train, None, 3, tiny(steps=1), seed=1)
    second = train_model(train, None, 3, tiny(steps=1), seed=2)
    assert first.history["train_total"].iloc[0] != second.history["train_total"].iloc[0]


def test_early_stopping_keeps_the_weights_with_the_lowest_validation_loss(samples):
    train, validation = samples
    config = tiny(steps=6, early_stopping={"every": 2, "patience": 1}, tasks={"flow": False})
    trained = train_model(train, validation, 3, config, seed=3)
    evaluated = trained.history.dropna(subset=["validation_total"])
    assert trained.best_step == evaluated.loc[evaluated["validation_total"].idxmin(), "step"]
    assert "train_flow" not in trained.history.columns
    model = load_model({"model": config.model_args(3), "state_dict": trained.state_dict})
    again = mean_losses(model, validation, config, torch.device("cpu"))
    assert again["total"] == pytest.approx(evaluated["validation_total"].min(), rel=1e-5)


def test_config_reads_the_project_parameters():
    params = yaml.safe_load((PROJECT / "conf/base/parameters_training.yml").read_text())["training"]
    config = TrainingConfig.from_params(params)
    assert config.preset == "small" and config.flow and config.landmarks
    assert config.loss_weights == LossWeights(**params["loss_weights"])
    assert config.loss_reduction == LossReduction()  # the plain means
    choices = ("init", "flow_layers", "batch_norm", "landmark_output")
    assert [config.model_args(3)[name] for name in choices] == [
        "standard", "standard", "batched", "normalised"
    ]
    assert config.reproduce_eval_mode_fault is False
    assert config.model_args(3)["with_flow"] is True
    assert config.representation == params["input"]["representation"]
    assert config.warmup_steps == params["schedule"]["warmup_steps"]


def test_reference_environment_reproduces_the_public_code_setup():
    bootstrap_project(PROJECT)
    parameters = _config_loader(PROJECT, "reference")["parameters"]
    config = TrainingConfig.from_params(parameters["training"])
    assert config.model_args(5) == {
        "architecture": "mol", "preset": "paper", "n_classes": 5, "variant": "reference",
        "graph": None, "k": 4, "representation": "frames", "normalisation": "clip",
        "init": "reference", "flow_layers": "reference", "batch_norm": "per_pair",
        "landmark_output": "pixels", "with_flow": True, "with_landmarks": True,
    }
    assert config.reproduce_eval_mode_fault is False  # a fault, not reproduced by default
    assert (config.steps, config.batch_size, config.learning_rate) == (1000, 32, 1e-4)
    assert config.learning_rate_factor(0) == config.learning_rate_factor(999) == 1.0
    assert config.loss_weights == LossWeights()  # base keys the environment leaves alone
    assert config.loss_reduction == LossReduction(flow="reference", landmarks="reference")
    assert parameters["preprocessing"]["alignment"] == "per_frame"


def test_every_reference_choice_trains_at_small_widths(samples):
    train, _ = samples
    bootstrap_project(PROJECT)
    parameters = _config_loader(PROJECT, "reference")["parameters"]["training"]
    choices = {k: parameters[k] for k in ("variant", "init", "flow_layers", "batch_norm",
                                          "landmark_output", "input", "loss_reduction")}
    trained = train_model(train, None, 3, tiny(steps=2, **choices), seed=1)
    assert trained.history["train_total"].notna().all()
    tracked = {k: int(v) for k, v in trained.state_dict.items() if "num_batches_tracked" in k}
    assert tracked["flow_net.encoder.stages.0.1.num_batches_tracked"] == 2 * 14


def test_eval_mode_fault_freezes_batch_norm_after_the_first_epoch(samples):
    train, _ = samples  # 3 samples: one batch of 2 per epoch
    heads_off = {"flow": False, "landmarks": False}
    healthy = train_model(train, None, 3, tiny(steps=3, batch_size=2, tasks=heads_off), seed=1)
    faulty = train_model(
        train, None, 3,
        tiny(steps=3, batch_size=2, tasks=heads_off, reproduce_eval_mode_fault=True), seed=1,
    )
    assert faulty.history["epoch"].tolist() == [0, 1, 2]

    def updates(state: dict[str, torch.Tensor]) -> set[int]:
        return {int(v) for k, v in state.items() if k.endswith("num_batches_tracked")}

    assert updates(healthy.state_dict) == {3}
    assert updates(faulty.state_dict) == {1}  # train mode in the first epoch only


def test_learning_rate_warms_up_then_follows_a_cosine_to_zero():
    config = TrainingConfig(steps=110, warmup_steps=10)
    factors = [config.learning_rate_factor(step) for step in range(110)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0) and factors[60] == pytest.approx(0.5)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:])) and factors[-1] < 0.001


def test_flow_baseline_reads_the_apex_flow_only():
    config = TrainingConfig.from_params({"model": "flow_baseline"})
    assert config.sample_fields() == ("apex_flow",)
    assert config.model_args(3) == {"architecture": "flow_baseline", "n_classes": 3}
    recognition_only = TrainingConfig.from_params({"tasks": {"flow": False, "landmarks": False}})
    assert recognition_only.sample_fields() == ("frames",)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"step": 5}, r"unknown training parameters: \['step'\]"),
        ({"tasks": {"flows": False}}, r"\['tasks.flows'\]"),
        ({"flow": False}, r"\['flow'\]"),
        ({"tasks": {"flow": "no"}}, "training.tasks.flow must be true or false"),
        ({"input": {"channels": 2}}, r"\['input.channels'\]"),
        ({"model": "htnet"}, r"training.model must be one of \['mol', 'flow_baseline'\]"),
        ({"schedule": {"decay": "linear"}}, "training.schedule.decay must be one of"),
        ({"steps": 10, "schedule": {"warmup_steps": 10}}, r"warmup_steps in \[0, steps\)"),
        ({"batch_size": 0}, "training.batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, "training.batch_size must be an integer >= 1, got 2.5"),
        ({"early_stopping": {"every": 0}}, "training.early_stopping.every must be an integer"),
        ({"workers": -1}, "training.workers must be an integer >= 0, got -1"),
        ({"device": "gpu"}, "training.device: unknown device 'gpu': use auto, cpu, cuda, mps"),
        ({"loss_reduction": {"flows": "mean"}}, r"training.loss_reduction parameters: \['flows'\]"),
        ({"loss_reduction": {"flow": "sum"}}, r"flow must be one of \['mean', 'reference'\]"),
        ({"loss_weights": {"ldm": 1.0}}, r"training.loss_weights parameters: \['ldm'\]"),
        ({"init": "kaiming"}, r"training.init must be one of \['standard', 'reference'\]"),
        ({"batch_norm": "per_frame"}, r"training.batch_norm must be one of \['batched'"),
        ({"flow_layers": "flownetc"}, "training.flow_layers must be one of"),
        ({"landmark_output": "unit"}, "training.landmark_output must be one of"),
        ({"reproduce_eval_mode_fault": "yes"}, "reproduce_eval_mode_fault must be true or false"),
    ],
)
def test_config_rejects_unknown_or_mistyped_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig.from_params(params)
