"""Which registered version inference loads: the vetted one by default, an unscored one only
by its number."""

import logging

import mlflow
import pytest
from kedro.io import DatasetError

from micro_expression.io.packaged_model import (
    DEFAULT_MODEL_URI,
    SCORED_ALIAS,
    check_scored,
    resolve_model_uri,
)

NAME = "micro-expression-mol"


@pytest.fixture
def registry(tmp_path):
    """Version 1 scored and aliased, version 2 registered by a run that never scored it."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri, uri)
    client.create_registered_model(NAME)
    for _ in range(2):
        client.create_model_version(NAME, "runs:/x/model")
    client.set_model_version_tag(NAME, "1", "loso_uf1", "0.71")
    return client


def test_the_default_is_the_scored_alias_and_says_how_it_is_made_when_missing(registry):
    assert DEFAULT_MODEL_URI == f"models:/{NAME}@{SCORED_ALIAS}"
    with pytest.raises(DatasetError, match="once a run has its leave-one-subject-out scores"):
        resolve_model_uri(DEFAULT_MODEL_URI, registry)
    registry.set_registered_model_alias(NAME, SCORED_ALIAS, "1")
    assert resolve_model_uri(DEFAULT_MODEL_URI, registry) == (f"models:/{NAME}/1", NAME, "1")


def test_an_unscored_version_loads_only_by_its_number(registry, caplog):
    check_scored(f"models:/{NAME}/1", NAME, "1", registry)
    for requested in (f"models:/{NAME}", f"models:/{NAME}/latest"):
        _, _, newest = resolve_model_uri(requested, registry)
        with pytest.raises(DatasetError, match=f"version 2 of '{NAME}' has no leave-one-subject"):
            check_scored(requested, NAME, newest, registry)
    registry.set_registered_model_alias(NAME, "by-hand", "2")
    with pytest.raises(DatasetError, match=f"inference.model_uri=models:/{NAME}/2"):
        check_scored(f"models:/{NAME}@by-hand", NAME, "2", registry)
    with caplog.at_level(logging.WARNING):
        check_scored(f"models:/{NAME}/2", NAME, "2", registry)
    assert "loaded because models:/micro-expression-mol/2 names it" in caplog.text
