"""`kedro run --pipelines ingestion` on an MMEW tree written by the test."""

import pandas as pd
import pytest

from tests.kedro_project import copy_project, kedro_run
from tests.readers.fixtures import MMEW_CLIPS, write_mmew


@pytest.mark.slow
def test_kedro_run_ingests_an_mmew_tree(tmp_path):
    project = copy_project(tmp_path / "project")
    root = write_mmew(tmp_path / "MMEW", [*MMEW_CLIPS, {**MMEW_CLIPS[0], "folder": False,
                                                         "filename": "S01-01-009"}])

    result = kedro_run(project, "--pipelines", "ingestion", "--params",
                       f"dataset.name=mmew,dataset.root={root}")

    assert result.returncode == 0, result.stdout + result.stderr
    folder = project / "data" / "02_intermediate"
    index = pd.read_parquet(folder / "clip_index.parquet").set_index("clip_id")
    rejected = pd.read_parquet(folder / "rejected_clips.parquet").set_index("clip_id")
    assert index.label.to_dict() == {
        "mmew/S01/S01-01-001": "positive", "mmew/S01/S01-02-003": "surprise",
        "mmew/S02/S02-01-002": "negative",
    }
    assert index.n_frames.to_dict()["mmew/S01/S01-01-001"] == 11
    assert rejected.kind.to_dict() == {"mmew/S02/S02-03-001": "scheme exclusion",
                                       "mmew/S01/S01-01-009": "data fault"}
    assert rejected.reason["mmew/S01/S01-01-009"].startswith(
        f"sheet row has no clip folder on disk: looked for "
        f"{root / 'Micro_Expression/happiness/S01-01-009'} (clip folders in ")
