import pytest

from micro_expression.readers import read_source
from tests.readers.fixtures import write_casme2, write_samm, write_smic


def _roots(tmp_path):
    return {
        "casme2": write_casme2(tmp_path / "CASME2"),
        "samm": write_samm(tmp_path / "SAMM_release"),
        "smic": write_smic(tmp_path / "SMIC"),
    }


def test_composite_reads_the_three_datasets_with_prefixed_subjects(tmp_path):
    roots = _roots(tmp_path)

    raw = read_source("composite", roots={k: str(v) for k, v in roots.items()})

    assert raw.name == "composite"
    assert raw.roots == {k: str(v) for k, v in roots.items()}
    datasets = [c.dataset for c in raw.clips]
    assert datasets == sorted(datasets, key=["casme2", "samm", "smic"].index)
    assert {c.subject.split("/")[0] for c in raw.clips} == {"casme2", "samm", "smic"}
    assert {c.subject for c in raw.clips if c.dataset == "smic"} == {"smic/s1", "smic/s2"}
    assert all(c.clip_id.startswith(c.subject + "/") for c in raw.clips)


def test_composite_names_the_missing_roots(tmp_path):
    roots = _roots(tmp_path)

    with pytest.raises(ValueError, match=r"missing: dataset\.roots\.samm, dataset\.roots\.smic"):
        read_source("composite", roots={"casme2": str(roots["casme2"]), "samm": None})


def test_relative_root_is_taken_from_the_working_directory(tmp_path, monkeypatch):
    write_casme2(tmp_path / "data" / "CASME2")
    monkeypatch.chdir(tmp_path)

    raw = read_source("casme2", "data/CASME2")

    assert raw.roots == {"casme2": str(tmp_path / "data" / "CASME2")}
    assert raw.clips[0].frames[0].path.startswith(str(tmp_path))


def test_synthetic_is_read_as_casme2(tmp_path):
    write_casme2(tmp_path)

    raw = read_source("synthetic", tmp_path)

    assert raw.clips[0].clip_id == "synthetic/sub01/EP02_01f"
    assert raw.clips[0].ground_truth is None  # no ground-truth files beside these clips


def test_missing_root_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"dataset\.root = {tmp_path / 'nope'}"):
        read_source("casme2", tmp_path / "nope")


def test_unknown_dataset_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"'casme4'.*synthetic, casme2, samm, smic, composite"):
        read_source("casme4", tmp_path)


def test_a_root_that_is_a_loop_of_links_is_called_a_loop(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(FileNotFoundError, match=r"= .*/a: a loop of symbolic links"):
        read_source("casme2", tmp_path / "a")
