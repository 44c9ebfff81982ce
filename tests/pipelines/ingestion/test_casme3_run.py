"""`kedro run --pipelines ingestion` on a CAS(ME)^3 Part A tree written by the test."""

import pandas as pd
import pytest

from micro_expression.readers.casme3 import DAMAGED_LIST
from tests.kedro_project import copy_project, kedro_run
from tests.readers.fixtures import CASME3_CLIPS, write_casme3


@pytest.mark.slow
def test_kedro_run_ingests_a_casme3_tree(tmp_path):
    project = copy_project(tmp_path / "project")
    clips = [*CASME3_CLIPS, {"subject": "spNO.2", "filename": "e", "onset": 2, "apex": 4,
                             "offset": 5, "emotion": "fear", "frames": [4, 5]}]
    root = write_casme3(tmp_path / "CASME3", clips)
    (root / DAMAGED_LIST).write_text("spNO.1/b/color/15.jpg\n")

    result = kedro_run(project, "--pipelines", "ingestion", "--params",
                       f"dataset.name=casme3,dataset.root={root},dataset.classes=4")

    assert result.returncode == 0, result.stdout + result.stderr
    folder = project / "data" / "02_intermediate"
    index = pd.read_parquet(folder / "clip_index.parquet").set_index("clip_id")
    rejected = pd.read_parquet(folder / "rejected_clips.parquet")
    assert index.label.to_dict() == {
        "casme3/spNO.1/a_9": "positive", "casme3/spNO.1/a_30": "negative",
        "casme3/spNO.2/c_20": "negative", "casme3/spNO.2/d_40": "others",
    }
    onset_apex = index.loc["casme3/spNO.1/a_30"]
    assert list(onset_apex.frame_paths) == [
        str(root / "spNO.1" / "a" / "color" / f"{n}.jpg") for n in (30, 31, 32)
    ]
    assert onset_apex.apex == 30 and index.apex_note.isna().all()
    assert set(index.fps) == {30.0}
    assert rejected.set_index("clip_id").reason.to_dict() == {
        "casme3/spNO.1/b_14": f"unreadable image {root / 'spNO.1/b/color/15.jpg'}: listed as "
                              f"damaged in {root / DAMAGED_LIST} line 1",
        "casme3/spNO.2/e_2": "2 of 4 frames missing between onset 2 and offset 5: 2-3 "
                             f"(in {root / 'spNO.2/e/color'})",
    }
    assert set(rejected.kind) == {"data fault"}
