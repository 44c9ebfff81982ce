"""`kedro lineage` follows a model to the raw frames when its data was made by earlier runs."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.kedro_project import configure_tiny_run, copy_project, kedro_run, set_parameters

MODEL = "models:/micro-expression-flow-baseline@synthetic"


@pytest.fixture(scope="module")
def trained_apart(tmp_path_factory):
    """Data made by one run (corpus to folds), the flow baseline trained and scored by another
    (`--pipelines training,evaluation`), as the flow baseline of the issue was."""
    project = copy_project(tmp_path_factory.mktemp("trained_apart") / "project")
    configure_tiny_run(project, subjects=2)
    set_parameters(project, "training", {"training": {"model": "flow_baseline"}})
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    for pipelines in ("synthetic,ingestion,preprocessing,splitting", "training,evaluation"):
        result = kedro_run(project, "--pipelines", pipelines)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return project


def _lineage(project: Path, *args: str) -> subprocess.CompletedProcess:
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "500"}
    return subprocess.run([kedro, "lineage", *args], cwd=project, capture_output=True,
                          text=True, timeout=300, env=env)


def _client(project: Path) -> MlflowClient:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _invert_a_frame(project: Path, indexed_in: Path) -> str:
    """Invert the first frame of the first clip that ``indexed_in`` indexed, in its copy
    ``project``; that clip's id."""
    index = pd.read_parquet(project / "data/02_intermediate/clip_index.parquet")
    clip = index.sort_values("clip_id").iloc[0]
    frame = project / Path(clip.frame_paths[0]).relative_to(indexed_in)  # paths are absolute
    cv2.imwrite(str(frame), 255 - cv2.imread(str(frame)))
    return clip.clip_id


@pytest.mark.slow
def test_a_model_trained_apart_from_its_data_is_checked_to_the_raw_frames(
    trained_apart, tmp_path
):
    moved = tmp_path / "moved"  # a moved project: the store and the data travel together
    shutil.copytree(trained_apart, moved)
    client = _client(moved)
    (version,) = client.search_model_versions("name='micro-expression-flow-baseline'")
    assert "clip_index ?" not in version.description
    assert len(version.tags["clip_index_digest"]) == 64
    assert version.tags["lineage.clip_index"].startswith("from preprocessed_index ")

    result = _lineage(moved, MODEL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Could not extract type hints" not in result.stdout + result.stderr  # issue 25
    assert "clip_index                unchanged" in result.stdout
    assert "raw dataset (synthetic)   unchanged" in result.stdout
    assert "data unchanged since this run" in result.stdout

    clip = _invert_a_frame(moved, trained_apart)
    result = _lineage(moved, MODEL)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "raw dataset (synthetic)   CHANGED" in result.stdout
    assert f"changed  {clip}" in result.stdout
    assert "DATA CHANGED since this run: raw dataset (synthetic)" in result.stdout


@pytest.mark.slow
def test_a_run_whose_data_cannot_be_traced_is_not_vouched_for(trained_apart, tmp_path):
    project = tmp_path / "untraced"
    shutil.copytree(trained_apart, project)
    # A preprocessed index written before its lineage was recorded, or copied in by hand.
    path = project / "data/03_primary/preprocessed_index.parquet"
    table = pd.read_parquet(path)
    table.attrs.clear()
    table.to_parquet(path)
    started_ms = int(time.time() * 1000)
    result = kedro_run(project, "--pipelines", "splitting")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    experiment = _client(project).get_experiment_by_name("micro_expression")
    runs = _client(project).search_runs(
        [experiment.experiment_id], f"attributes.start_time >= {started_ms}"
    )
    assert len(runs) == 1, [(r.info.run_name, r.info.status) for r in runs]
    (run,) = runs
    assert run.info.run_name.startswith("splitting · "), run.info.run_name

    result = _lineage(project, run.info.run_id)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "NOT CHECKED" in result.stdout
    assert "no clip index" in result.stdout
    assert "data unchanged" not in result.stdout
