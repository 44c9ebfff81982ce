"""Parameter blocks: one parser each, unknown keys named, every block checked before a run."""

import sqlite3

import pytest
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
