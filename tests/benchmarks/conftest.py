"""A tiny project copy, prepared once for the benchmarks that read a project's data or model."""

from pathlib import Path

import pytest

from tests.kedro_project import configure_tiny_run, copy_project, kedro_run


@pytest.fixture(scope="session")
def preprocessed_project(tmp_path_factory) -> Path:
    """Two subjects' generated clips (six), ingested, preprocessed and split."""
    project = copy_project(tmp_path_factory.mktemp("benchmarks") / "project")
    configure_tiny_run(project, subjects=2, workers=1)  # two workers only contend on 2 cores
    done = kedro_run(project, "--pipelines", "synthetic,ingestion,preprocessing,splitting")
    assert done.returncode == 0, done.stderr[-3000:]
    return project


@pytest.fixture(scope="session")
def trained_project(preprocessed_project) -> Path:
    """The same project with its final model registered (which needs the folds' scores)."""
    done = kedro_run(preprocessed_project, "--pipelines", "training,evaluation")
    assert done.returncode == 0, done.stderr[-3000:]
    return preprocessed_project
