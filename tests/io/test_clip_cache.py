from pathlib import Path

import numpy as np
import pytest
import yaml
from kedro.io import DataCatalog, DatasetError

from micro_expression.io.clip_cache import ClipCacheDataset
from micro_expression.preprocessing.cache import ClipCache

CATALOG = Path(__file__).resolve().parents[2] / "conf" / "base" / "catalog.yml"


def test_load_gives_a_cache_handle_on_the_folder(tmp_path):
    dataset = ClipCacheDataset(path=str(tmp_path / "clips"))
    assert not dataset.exists()
    cache = dataset.load()
    assert isinstance(cache, ClipCache) and cache.folder == tmp_path / "clips"
    cache.write_atomic("k", {"x": np.arange(3)})
    assert dataset.exists() and dataset.load().contains("k")


def test_saving_the_handle_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="read-only"):
        ClipCacheDataset(path=str(tmp_path)).save(ClipCache(tmp_path))


def test_catalog_entry_builds_the_dataset(tmp_path):
    entry = yaml.safe_load(CATALOG.read_text())["preprocessed_clips"]
    assert entry["path"] == "data/03_primary/preprocessed"
    catalog = DataCatalog.from_config({"clips": {**entry, "path": str(tmp_path / "c")}})
    assert catalog.load("clips").folder == tmp_path / "c"
