import subprocess
from pathlib import Path

import pandas as pd
import pytest

from micro_expression.pipelines.ingestion import create_pipeline
from tests.kedro_project import copy_project, kedro_run
from tests.readers.fixtures import write_casme2, write_samm, write_smic


def test_pipeline_reads_raw_dataset_and_params_and_writes_both_tables():
    (node,) = create_pipeline().nodes

    assert node.name == "build_clip_index"
    assert node.inputs == ["raw_dataset", "params:dataset"]
    assert node.outputs == ["clip_index", "rejected_clips"]


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
