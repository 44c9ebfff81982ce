from micro_expression.mappings import flatten


def test_flatten_joins_nested_keys_with_dots():
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "e": [1, 2]}) == {
        "a.b": 1, "a.c.d": None, "e": [1, 2],
    }


def test_an_empty_mapping_is_kept_as_kedro_mlflow_logs_it_or_dropped():
    assert flatten({"a": {}, "b": 1}) == {"a": {}, "b": 1}
    assert flatten({"a": {}, "b": 1}, keep_empty=False) == {"b": 1}
