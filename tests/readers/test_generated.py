"""The generated corpus' reader: the layouts from its manifest, ground truth by clip id."""

import json

import pytest

from micro_expression.readers import read_source
from micro_expression.readers.generated import MANIFEST_FILENAME, corpus_layouts
from micro_expression.readers.ground_truth import ground_truth_file
from tests.readers.fixtures import write_casme2, write_mmew


def test_without_a_manifest_or_its_layout_the_corpus_is_casme2(tmp_path):
    write_casme2(tmp_path)
    assert corpus_layouts(tmp_path) == ("casme2",)
    (tmp_path / MANIFEST_FILENAME).write_text(json.dumps({"params": {"seed": 1}}))
    assert corpus_layouts(tmp_path) == ("casme2",)
    assert {clip.dataset for clip in read_source("synthetic", tmp_path).clips} == {"synthetic"}


def test_each_part_is_read_from_its_folder_with_its_dataset_name(tmp_path):
    write_casme2(tmp_path / "casme2")
    write_mmew(tmp_path / "mmew")
    (tmp_path / MANIFEST_FILENAME).write_text(
        json.dumps({"params": {"layout": ["casme2", "mmew"]}}))
    truth = ground_truth_file(tmp_path / "mmew", "S01", "S01-01-001")
    truth.parent.mkdir(parents=True)
    truth.write_bytes(b"")

    clips = {clip.clip_id: clip for clip in read_source("synthetic", tmp_path).clips}

    assert {clip.dataset for clip in clips.values()} == {"synthetic_casme2", "synthetic_mmew"}
    assert clips["synthetic_mmew/S01/S01-01-001"].ground_truth == str(truth)
    assert clips["synthetic_casme2/sub01/EP02_01f"].ground_truth is None


@pytest.mark.parametrize("layout", [["casme4"], "casme2", []])
def test_a_manifest_naming_no_known_layouts_is_an_error(tmp_path, layout):
    (tmp_path / MANIFEST_FILENAME).write_text(json.dumps({"params": {"layout": layout}}))
    with pytest.raises(ValueError, match=r"params\.layout must list layouts among casme2, samm"):
        corpus_layouts(tmp_path)
