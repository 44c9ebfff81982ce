"""Reading lineage back: parameters against defaults, dataset tags, model URIs."""

import mlflow
import pytest

from micro_expression.lineage.audit import (
    changed_parameters,
    dataset_parameters,
    read_lineage,
    resolve_target,
)


def test_changed_parameters_compares_as_mlflow_stores_them():
    defaults = {"training": {"learning_rate": 0.002, "steps": 200, "graph": None,
                             "tasks": {"flow": True}}}
    logged = {"training.learning_rate": "2e-3", "training.steps": "50", "training.graph": "None",
              "training.tasks.flow": "True", "training.extra": "1"}
    assert changed_parameters(logged, defaults) == {
        "training.steps": ("200", "50"), "training.extra": ("<none>", "1"),
    }


def test_dataset_parameters_are_typed_again_but_paths_stay_text():
    tags = {"dataset.name": "casme2", "dataset.root": "2024", "dataset.classes": "3",
            "dataset.strict": "False", "dataset.roots.samm": "/data/SAMM", "git_commit": "x"}
    assert dataset_parameters(tags) == {
        "name": "casme2", "root": "2024", "classes": 3, "strict": False,
        "roots": {"samm": "/data/SAMM"},
    }


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri, uri)
    experiment = client.create_experiment("e", artifact_location=str(tmp_path / "mlruns"))
    run = client.create_run(experiment, tags={"clip_index_digest": "ab" * 32})
    client.create_registered_model("m")
    client.create_model_version("m", "runs:/x/model", run_id=run.info.run_id)
    client.create_model_version("m", "runs:/x/model", run_id=run.info.run_id)
    client.set_registered_model_alias("m", "casme2", "1")
    return client, run


def test_every_kind_of_target_resolves_to_its_run_and_version(store):
    client, run = store
    for target, version in [("models:/m/1", "1"), ("models:/m@casme2", "1"),
                            ("models:/m/latest", "2"), ("models:/m", "2")]:
        found, model_version = resolve_target(client, target)
        assert (found.info.run_id, str(model_version.version)) == (run.info.run_id, version)
    for target in (run.info.run_id, f"runs:/{run.info.run_id}/model"):
        found, model_version = resolve_target(client, target)
        assert found.info.run_id == run.info.run_id and model_version is None
    lineage = read_lineage(client, "models:/m@casme2")
    assert lineage.aliases == ["casme2"]
    assert lineage.digests == {"clip_index": "ab" * 32}
    assert lineage.table_runs == {}  # no run logged the table as an artifact


def test_an_unknown_model_is_a_lookup_error(store):
    client, _ = store
    with pytest.raises(LookupError, match="no version of model 'nope'"):
        resolve_target(client, "models:/nope")
