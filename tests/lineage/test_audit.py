"""Reading lineage back: parameters against defaults, dataset tags, model URIs."""

import mlflow
import pandas as pd
import pytest

from micro_expression.lineage.ancestry import CLIP_HASHES_ARTIFACT
from micro_expression.lineage.audit import (
    changed_parameters,
    clip_changes,
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


def _log_csv(client, run_id, path, table, scratch):
    folder, name = path.rsplit("/", 1)
    (scratch / name).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(scratch / name, index=False)
    client.log_artifact(run_id, str(scratch / name), artifact_path=folder)


def test_the_per_clip_hashes_come_from_the_run_else_from_the_run_that_logged_its_clip_index(
    store, tmp_path
):
    client, run = store
    experiment = run.info.experiment_id
    hashes = pd.DataFrame({"clip_id": ["sub01/EP01"], "content_hash": ["0123"]})
    assert read_lineage(client, run.info.run_id).clip_hashes is None
    ingestion = client.create_run(experiment, tags={"clip_index_digest": "ab" * 32})
    _log_csv(client, ingestion.info.run_id, "ingestion/clip_index.csv",
             hashes.assign(frame_paths="['x.jpg']"), tmp_path / "a")
    assert read_lineage(client, run.info.run_id).clip_hashes == {"sub01/EP01": "0123"}
    _log_csv(client, run.info.run_id, CLIP_HASHES_ARTIFACT,
             hashes.assign(content_hash="0456"), tmp_path / "b")
    assert read_lineage(client, run.info.run_id).clip_hashes == {"sub01/EP01": "0456"}


def test_a_run_without_a_clip_index_cannot_be_traced_to_the_raw_data(store):
    client, run = store
    assert read_lineage(client, run.info.run_id).untraced() is None
    training = client.create_run(run.info.experiment_id,
                                 tags={"preprocessed_index_digest": "cd" * 32})
    untraced = read_lineage(client, training.info.run_id).untraced()
    assert "records no clip index" in untraced and "its preprocessed_index carries" in untraced


def test_clip_changes_name_added_removed_and_changed_clips():
    recorded = {"sub01/EP01": "h1", "sub02/EP02": "h2", "sub03/EP04_01": "h3"}
    now = {"sub01/EP01": "h1", "sub03/EP04_01": "h3-new", "sub04/EP05": "h5"}
    assert clip_changes(recorded, now) == {
        "added": ["sub04/EP05"], "removed": ["sub02/EP02"], "changed": ["sub03/EP04_01"],
    }
    assert not any(clip_changes(recorded, dict(recorded)).values())
