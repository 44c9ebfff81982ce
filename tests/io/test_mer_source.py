import logging
from pathlib import Path

import pytest
from kedro.io import DatasetError

from micro_expression.io import MERSourceDataset
from micro_expression.readers import RawDataset
from tests.readers.fixtures import CASME2_CLIPS, write_casme2, write_samm, write_smic


class TinyCorpus:
    """Stands in for the generated corpus: writes a small CASME II tree."""

    def __init__(self):
        self.written_to = []

    def write(self, root: Path) -> None:
        self.written_to.append(root)
        write_casme2(root, CASME2_CLIPS[:2])


def test_load_returns_every_clip_of_the_dataset(tmp_path):
    write_casme2(tmp_path)

    raw = MERSourceDataset(name="casme2", root=str(tmp_path)).load()

    assert isinstance(raw, RawDataset)
    assert raw.name == "casme2"
    assert len(raw.clips) == len(CASME2_CLIPS)


def test_load_composite_from_roots(tmp_path):
    roots = {
        "casme2": str(write_casme2(tmp_path / "c")),
        "samm": str(write_samm(tmp_path / "s")),
        "smic": str(write_smic(tmp_path / "m")),
    }

    raw = MERSourceDataset(name="composite", root="unused", roots=roots).load()

    assert {c.dataset for c in raw.clips} == {"casme2", "samm", "smic"}


def test_save_writes_the_generated_corpus_then_load_reads_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dataset = MERSourceDataset(name="synthetic", root="data/01_raw/synthetic")
    corpus = TinyCorpus()

    dataset.save(corpus)
    raw = dataset.load()

    assert corpus.written_to == [tmp_path / "data" / "01_raw" / "synthetic"]
    assert [c.clip_id for c in raw.clips] == ["synthetic/sub01/EP02_01f", "synthetic/sub01/EP03_02"]


def test_save_never_writes_into_a_real_dataset(tmp_path, caplog):
    write_casme2(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    corpus = TinyCorpus()

    with caplog.at_level(logging.INFO, logger="micro_expression.io.mer_source"):
        MERSourceDataset(name="casme2", root=str(tmp_path)).save(corpus)

    assert corpus.written_to == []
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert "not needed for dataset.name=casme2" in caplog.text


def test_describe_and_exists(tmp_path):
    dataset = MERSourceDataset(name="casme2", root=str(tmp_path / "CASME2"))

    assert dataset._describe() == {"name": "casme2", "root": str(tmp_path / "CASME2"), "classes": 3}
    assert not dataset.exists()
    write_casme2(tmp_path / "CASME2")
    assert dataset.exists()


def test_missing_root_stops_the_load_naming_it(tmp_path):
    dataset = MERSourceDataset(name="casme2", root=str(tmp_path / "missing"))

    with pytest.raises(DatasetError, match=rf"Dataset root not found.*{tmp_path / 'missing'}"):
        dataset.load()


def test_unknown_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(DatasetError, match="valid names: synthetic, casme2, samm, smic, composite"):
        MERSourceDataset(name="casme", root=str(tmp_path)).load()


def test_five_classes_for_smic_fails_before_scanning(tmp_path):
    # No tree written: the class check must come first.
    with pytest.raises(DatasetError, match=r"dataset.classes=5 .* 'smic'"):
        MERSourceDataset(name="smic", root=str(tmp_path), classes=5).load()
