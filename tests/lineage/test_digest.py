import pandas as pd
import pytest

from micro_expression.lineage import table_digest

COLUMNS = ("content_hash", "label", "apex")


def _index(**overrides):
    table = pd.DataFrame(
        {
            "clip_id": ["a/1", "a/2", "b/1"],
            "content_hash": ["h1", "h2", "h3"],
            "label": ["positive", "negative", "surprise"],
            "apex": pd.array([3, None, 5], dtype="Int64"),
            "frame_paths": [["/x/1.jpg"], ["/x/2.jpg"], ["/x/3.jpg"]],
        }
    )
    for column, value in overrides.items():
        table[column] = value
    return table


def test_digest_ignores_row_order_and_paths():
    table = _index()
    moved = table.assign(frame_paths=[["/elsewhere/1.jpg"], ["/e/2.jpg"], ["/e/3.jpg"]])
    shuffled = moved.iloc[[2, 0, 1]]
    digest = table_digest(table, COLUMNS, key="clip_id")
    assert digest == table_digest(shuffled, COLUMNS, key="clip_id")


def test_digest_changes_with_content():
    table = _index()
    changed = _index(content_hash=["h1", "h2-changed", "h3"])
    assert table_digest(table, COLUMNS, "clip_id") != table_digest(changed, COLUMNS, "clip_id")


def test_digest_names_missing_columns():
    with pytest.raises(KeyError, match="content_key"):
        table_digest(_index(), ("content_key",), key="clip_id")


def test_empty_tables_of_different_kinds_have_different_digests():
    rejected = pd.DataFrame(columns=["clip_id", "source", "reason", "kind"])
    rejections = pd.DataFrame(columns=["clip_id", "stage", "reason"])
    empty_input = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    first = table_digest(rejected, ("source", "reason", "kind"), "clip_id")
    second = table_digest(rejections, ("stage", "reason"), "clip_id")
    assert empty_input not in (first, second) and first != second
    assert first == table_digest(rejected.copy(), ("source", "reason", "kind"), "clip_id")
