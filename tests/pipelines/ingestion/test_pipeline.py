import subprocess
from pathlib import Path

import pandas as pd
import pytest

from micro_expression.pipelines.ingestion import create_pipeline
from tests.kedro_project import copy_project, kedro_run
from tests.readers.fixtures import CASME2_CLIPS, write_casme2, write_samm, write_smic


def test_pipeline_writes_both_tables_then_checks_them():
    build, check = create_pipeline().nodes

    assert build.name == "build_clip_index"
    assert build.inputs == ["raw_dataset", "params:ingestion"]
    assert build.outputs == ["clip_index", "rejected_clips"]
    assert check.name == "check_clip_index"
    assert check.inputs == ["clip_index", "rejected_clips", "params:ingestion"]
    assert check.outputs == ["ingestion_summary"]


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


def _kedro_run(project: Path, params: str) -> subprocess.CompletedProcess:
    return kedro_run(project, "--pipelines", "ingestion", "--params", params)


def _tables(project: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = project / "data" / "02_intermediate"
    return (pd.read_parquet(folder / "clip_index.parquet"),
            pd.read_parquet(folder / "rejected_clips.parquet"))


@pytest.mark.slow
def test_kedro_run_ingests_a_casme2_tree(project, tmp_path):
    root = write_casme2(tmp_path / "CASME2")

    result = _kedro_run(project, f"dataset.name=casme2,dataset.root={root}")

    assert result.returncode == 0, result.stdout + result.stderr
    index, rejected = _tables(project)
    assert list(index.clip_id) == [
        "casme2/sub01/EP02_01f", "casme2/sub01/EP03_02", "casme2/sub02/EP01_11f",
        "casme2/sub02/EP19_05f",
    ]
    assert list(index.frame_paths.iloc[0]) == [
        str(root / "CASME2_RAW_selected" / "sub01" / "EP02_01f" / f"img{n}.jpg")
        for n in range(9, 13)
    ]
    assert index.apex.dtype == "Int64"
    assert list(rejected.clip_id) == ["casme2/sub03/EP07_01"]
    assert (project / "mlflow.db").exists()


@pytest.mark.slow
def test_kedro_run_ingests_the_composite(project, tmp_path):
    roots = {
        "casme2": write_casme2(tmp_path / "CASME2"),
        "samm": write_samm(tmp_path / "SAMM"),
        "smic": write_smic(tmp_path / "SMIC") / "HS",
    }
    params = "dataset.name=composite," + ",".join(
        f"dataset.roots.{name}={path}" for name, path in roots.items()
    )

    result = _kedro_run(project, params)

    assert result.returncode == 0, result.stdout + result.stderr
    index, rejected = _tables(project)
    assert index.groupby("dataset").size().to_dict() == {"casme2": 4, "samm": 4, "smic": 3}
    assert set(index.label) == {"negative", "positive", "surprise"}
    assert set(rejected.clip_id) == {"casme2/sub03/EP07_01", "samm/007/007_6_1"}


@pytest.mark.slow
def test_kedro_run_stops_naming_a_missing_root(project, tmp_path):
    missing = tmp_path / "no_such_dataset"

    result = _kedro_run(project, f"dataset.name=samm,dataset.root={missing}")

    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert f"Dataset root not found: dataset.root = {missing} is not a folder" in output


@pytest.mark.slow
def test_when_every_clip_is_rejected_this_runs_reasons_are_written_and_named(project, tmp_path):
    good = write_casme2(tmp_path / "good")
    assert _kedro_run(project, f"dataset.name=casme2,dataset.root={good}").returncode == 0
    bad = write_casme2(tmp_path / "bad", [{"subject": 1, "filename": "EP01_01", "onset": 3,
                                           "apex": 4, "offset": 6, "emotion": "sadness"}])

    result = _kedro_run(project, f"dataset.name=casme2,dataset.root={bad}")

    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "No usable clip: all 1 clips were rejected" in output
    assert "data/02_intermediate/rejected_clips.parquet" in output
    index, rejected = _tables(project)
    assert index.empty  # this run's (empty) index, beside this run's reasons
    assert rejected.clip_id.tolist() == ["casme2/sub01/EP01_01"]
    assert "normal exclusion" in rejected.reason.iloc[0]
    # Preprocessing will not start from an index that failed the check.
    refused = kedro_run(project, "--pipelines", "preprocessing")
    assert refused.returncode != 0
    assert "has not passed ingestion's check" in " ".join(refused.stderr.split())


@pytest.mark.slow
def test_a_failed_save_of_the_second_table_keeps_the_earlier_pair(project, tmp_path):
    first = write_casme2(tmp_path / "first")
    assert _kedro_run(project, f"dataset.name=casme2,dataset.root={first}").returncode == 0
    before = _tables(project)
    second = write_casme2(tmp_path / "second", CASME2_CLIPS[:2])
    intermediate = project / "data" / "02_intermediate"
    (intermediate / "rejected_clips.parquet.pending").mkdir()  # its save will fail

    result = _kedro_run(project, f"dataset.name=casme2,dataset.root={second}")

    assert result.returncode != 0
    after = _tables(project)
    assert after[0].equals(before[0]) and after[1].equals(before[1])
