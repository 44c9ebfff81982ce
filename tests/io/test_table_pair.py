import pandas as pd
import pytest
from kedro.io import DatasetError

from micro_expression.io.table_pair import PairedParquetDataset, pending_path, stored_pair_id


def _pair(folder):
    index, rejected = folder / "clip_index.parquet", folder / "rejected_clips.parquet"
    return (PairedParquetDataset(filepath=str(index), partner=rejected.name),
            PairedParquetDataset(filepath=str(rejected), partner=str(index)))  # absolute too


def _table(values, pair_id):
    table = pd.DataFrame({"clip_id": values})
    table.attrs["pair_id"] = pair_id
    return table


def test_the_pair_appears_when_its_second_table_is_saved(tmp_path):
    index, rejected = _pair(tmp_path)
    index.save(_table(["a", "b"], "run1"))
    assert not (tmp_path / "clip_index.parquet").exists()  # waits for its partner
    rejected.save(_table(["c"], "run1"))

    assert index.load()["clip_id"].tolist() == ["a", "b"]
    assert rejected.load().attrs["pair_id"] == "run1"
    assert not pending_path(tmp_path / "clip_index.parquet").exists()


def test_a_failed_second_save_leaves_the_earlier_pair_in_place(tmp_path):
    index, rejected = _pair(tmp_path)
    index.save(_table(["a"], "run1"))
    rejected.save(_table(["b"], "run1"))
    pending_path(tmp_path / "rejected_clips.parquet").mkdir()  # the next write fails

    index.save(_table(["new"], "run2"))
    with pytest.raises(DatasetError, match="Is a directory"):
        rejected.save(_table(["newer"], "run2"))

    assert index.load()["clip_id"].tolist() == ["a"]
    assert rejected.load()["clip_id"].tolist() == ["b"]


def test_a_stale_pending_partner_of_another_run_is_not_committed(tmp_path):
    index, rejected = _pair(tmp_path)
    index.save(_table(["stale"], "run0"))  # a run that failed before its second save
    rejected.save(_table(["b"], "run1"))
    assert not (tmp_path / "rejected_clips.parquet").exists()
    index.save(_table(["a"], "run1"))
    assert index.load()["clip_id"].tolist() == ["a"]
    assert stored_pair_id(tmp_path / "rejected_clips.parquet") == "run1"


def test_tables_of_two_runs_are_refused_on_load_naming_both_files(tmp_path):
    index, rejected = _pair(tmp_path)
    index.save(_table(["a"], "run1"))
    rejected.save(_table(["b"], "run1"))
    other = pd.DataFrame({"clip_id": ["x"]})
    other.to_parquet(tmp_path / "rejected_clips.parquet")  # written behind the catalog's back

    with pytest.raises(DatasetError, match=r"clip_index.parquet \(ingestion run1\) and .*"
                                           r"rejected_clips.parquet \(ingestion unknown\) are "
                                           r"not from the same ingestion run"):
        index.load()


def test_a_table_without_its_pair_id_cannot_be_saved(tmp_path):
    index, _ = _pair(tmp_path)
    with pytest.raises(DatasetError, match=r"no attrs\['pair_id'\]"):
        index.save(pd.DataFrame({"clip_id": ["a"]}))
