import pytest

from micro_expression.readers import read_source, scheme_for
from tests.readers.fixtures import write_casme2, write_casme3, write_samm, write_smic


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


def test_a_composite_needs_two_parts_and_names_the_roots_it_could_have(tmp_path):
    roots = _roots(tmp_path)

    with pytest.raises(ValueError, match=r"at least two of its parts; given casme2; set one or "
                                         r"more of: dataset\.roots\.samm, dataset\.roots\.smic, "
                                         r"dataset\.roots\.casme3, dataset\.roots\.mmew"):
        read_source("composite", roots={"casme2": str(roots["casme2"]), "samm": None})
    with pytest.raises(ValueError, match="cannot hold casme1: its parts are casme2, samm"):
        read_source("composite", roots={"casme1": str(roots["casme2"]), "samm": roots["samm"]})


def test_a_composite_of_any_parts_keeps_their_subjects_apart_and_labels_each_its_way(tmp_path):
    """CASME II with CAS(ME)^3 (MEGC since 2022): every subject prefixed with its dataset, each
    part's emotions mapped to the three classes by its own table."""
    roots = {"casme2": write_casme2(tmp_path / "CASME2"),
             "casme3": write_casme3(tmp_path / "CASME3")}
    raw = read_source("composite", roots={k: str(v) for k, v in roots.items()})
    assert {c.dataset for c in raw.clips} == {"casme2", "casme3"}
    assert all(c.subject.startswith(f"{c.dataset}/") for c in raw.clips)
    scheme = scheme_for("composite", 3)
    assert scheme.label("casme3", "sad") == scheme.label("casme2", "repression") == "negative"
    assert scheme.label("casme3", "happy") == scheme.label("casme2", "happiness") == "positive"


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
