"""Stamps: what a table was made from, kept in its own Parquet file."""

import pandas as pd
from kedro_datasets.pandas import ParquetDataset

from micro_expression.lineage.ancestry import (
    STAMP_ATTR,
    Descent,
    made_from,
    own_descent,
    stamp,
    stamped_descent,
    take_stamp,
)


def test_a_stamp_survives_the_catalogs_parquet_file_and_is_taken_off_on_reading(tmp_path):
    table = pd.DataFrame({"clip_id": ["a", "b"], "content_key": ["k1", "k2"]})
    descent = Descent({"clip_index": "c" * 64}, {"a": "h1", "b": "h2"}, "run-1")
    stamp(table, "d" * 64, descent)
    dataset = ParquetDataset(filepath=str(tmp_path / "preprocessed_index.parquet"))
    dataset.save(table)

    loaded = dataset.load()
    found = take_stamp(loaded)
    assert STAMP_ATTR not in loaded.attrs  # the node gets the table without it
    assert stamped_descent(found, "d" * 64) == descent
    assert stamped_descent(found, "e" * 64) is None  # a stamp for other content is not believed
    assert take_stamp(pd.DataFrame()) is None


def test_a_table_descends_from_its_parents_and_from_what_they_descend_from():
    clip_index = pd.DataFrame({"clip_id": ["a", "b"], "content_hash": ["h1", "h2"]})
    root = own_descent("clip_index", clip_index)
    assert root == Descent({}, {"a": "h1", "b": "h2"})
    assert own_descent("preprocessed_index", clip_index) == Descent()
    preprocessed = made_from({"clip_index": ("c" * 64, root)}, "run-1")
    assert preprocessed == Descent({"clip_index": "c" * 64}, {"a": "h1", "b": "h2"}, "run-1")
    folds = made_from({"preprocessed_index": ("p" * 64, preprocessed)}, "run-2")
    assert folds.ancestors == {"clip_index": "c" * 64, "preprocessed_index": "p" * 64}
    assert folds.clip_hashes == {"a": "h1", "b": "h2"}

