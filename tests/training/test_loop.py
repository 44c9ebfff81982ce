from pathlib import Path

import pytest
import torch
import yaml

from micro_expression.model import LossWeights
from micro_expression.preprocessing.cache import ClipCache
from micro_expression.training.data import ClipSamples
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
        {"steps": 6, "batch_size": 3, "learning_rate": 1e-3, "threads": 1, **overrides}
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
    assert config.model_args(3)["with_flow"] is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"step": 5}, r"unknown training parameters: \['step'\]"),
        ({"tasks": {"flows": False}}, r"\['tasks.flows'\]"),
        ({"flow": False}, r"\['flow'\]"),
        ({"tasks": {"flow": "no"}}, "training.tasks.flow must be true or false"),
    ],
)
def test_config_rejects_unknown_or_mistyped_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig.from_params(params)
