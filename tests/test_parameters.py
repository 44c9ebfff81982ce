"""Parameter blocks: one parser each, unknown keys named, every block checked before a run."""

import sqlite3

import pytest
import torch
import yaml

from micro_expression.parameters import (
    PARSERS,
    block_values,
    check_blocks,
    parser,
    used_blocks,
)
from tests.kedro_project import PROJECT, copy_project, kedro_run

NESTED = {"tasks": {"flow": "with_flow"}}


def test_nested_blocks_set_their_fields_and_ignored_keys_are_dropped():
    raw = {"steps": 3, "tasks": {"flow": False}, "subjects": ["a"]}

    values = block_values(raw, "training", ["steps", "with_flow"], NESTED, ignored=["subjects"])

    assert values == {"steps": 3, "with_flow": False}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"step": 3}, r"unknown training parameters: \['step'\]"),
        ({"with_flow": True}, r"unknown training parameters: \['with_flow'\]"),  # nested only
        ({"tasks": {"flows": True}}, r"\['tasks.flows'\]"),
        ({"tasks": True}, "training.tasks must be a mapping, got True"),
        (["steps"], "training parameters must be a mapping, got list"),
    ],
)
def test_bad_blocks_are_refused_by_name(raw, message):
    with pytest.raises(ValueError, match=message):
        block_values(raw, "training", ["steps", "with_flow"], NESTED)


def test_used_blocks_come_from_the_pipeline_inputs():
    inputs = {"params:preprocessing.qa_clips", "params:training", "params:inference", "clip_index"}

    assert used_blocks(inputs) == ["preprocessing", "training"]


def test_every_parser_reads_the_project_defaults():
    for block in PARSERS:
        conf = yaml.safe_load((PROJECT / "conf" / "base" / f"parameters_{block}.yml").read_text())
        assert parser(block)(conf[block]) is not None


def test_check_names_every_bad_block_at_once():
    with pytest.raises(ValueError) as raised:
        check_blocks({"splitting": {"seed": -1}, "ingestion": {"strict": "yes"},
                      "synthetic": {}})

    message = str(raised.value)
    assert "splitting: splitting.seed must be an integer >= 0, got -1" in message
    assert "ingestion: ingestion.strict must be true or false, got 'yes'" in message
    assert "synthetic" not in message


def test_runtime_names_that_nothing_reads_are_named_with_the_nearest():
    from micro_expression.parameters import runtime_problems

    known = ["dataset", "ingestion", "preprocessing", "training"]
    problems = runtime_problems({"trainig": {"steps": 5}, "strict": True, "training": {}}, known)
    assert problems == [
        "  --params strict: no parameter block or catalog entry reads it; known: dataset, "
        "ingestion, preprocessing, training",
        "  --params trainig: no parameter block or catalog entry reads it; did you mean "
        "'training'?",
    ]
    assert runtime_problems({"dataset": {"name": "casme2"}}, known) == []


def test_misspelt_runtime_parameters_stop_kedro_run_before_any_mlflow_run(tmp_path):
    """A misspelt block, a key without its block, and a bad key of a block the pipeline does
    not use: each would have been ignored; now the run stops, naming each."""
    project = copy_project(tmp_path / "project")
    result = kedro_run(project, "--pipelines", "synthetic",
                       "--params", "trainig.steps=5,strict=true,training.stepz=3")
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "--params trainig: no parameter block or catalog entry reads it; did you mean " \
           "'training'?" in output
    assert "--params strict: no parameter block" in output
    assert "unknown training parameters: ['stepz']" in output
    assert not (project / "data" / "01_raw" / "synthetic").exists()
    with sqlite3.connect(project / "mlflow.db") as store:
        assert store.execute("select count(*) from runs").fetchone() == (0,)


def test_a_bad_parameter_stops_kedro_run_before_any_node_or_mlflow_run(tmp_path):
    project = copy_project(tmp_path / "project")

    result = kedro_run(project, "--pipelines", "synthetic,ingestion",
                       "--params", "ingestion.strict=maybe,synthetic.subject=3")

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Bad parameters, nothing was run" in output
    assert "ingestion.strict must be true or false, got 'maybe'" in output
    assert "unknown synthetic parameters: ['subject']" in output
    assert not (project / "data" / "01_raw" / "synthetic").exists()
    with sqlite3.connect(project / "mlflow.db") as store:
        assert store.execute("select count(*) from runs").fetchone() == (0,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("batch_size=0", "training: training.batch_size must be an integer >= 1, got 0"),
        ("device=cuda", "training: training.device: 'cuda' asked for, but torch sees no CUDA "
                        "device"),
    ],
)
def test_a_value_the_training_nodes_would_refuse_stops_kedro_run_before_any_mlflow_run(
    tmp_path, value, message
):
    """Values that used to pass the parameter check and fail in the first fold, after an
    hour of preprocessing, with a FAILED MLflow run left behind."""
    if value == "device=cuda" and torch.cuda.is_available():
        pytest.skip("torch sees a CUDA device here, so training.device=cuda is a valid value")
    project = copy_project(tmp_path / "project")

    result = kedro_run(project, "--params", f"training.{value}")

    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "Bad parameters, nothing was run" in output
    assert message in output
    assert not (project / "data" / "01_raw" / "synthetic").exists()
    with sqlite3.connect(project / "mlflow.db") as store:
        assert store.execute("select count(*) from runs").fetchone() == (0,)
