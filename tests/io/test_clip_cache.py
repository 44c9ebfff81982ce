import os
import stat
from pathlib import Path

import numpy as np
import pytest
import yaml
from kedro.io import DataCatalog, DatasetError

from micro_expression.io.clip_cache import ClipCache, ClipCacheDataset, CorruptCacheEntryError

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


def test_write_then_read(tmp_path):
    cache = ClipCache(tmp_path / "clips")
    frames = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = cache.write_atomic("k1", {"frames": frames, "meta": '{"a": 1}'})
    assert path == cache.path_for("k1") and cache.contains("k1")
    stored = cache.read("k1")
    assert np.array_equal(stored["frames"], frames) and str(stored["meta"]) == '{"a": 1}'
    assert list(cache.read("k1", ["meta"])) == ["meta"]
    assert [p.name for p in (tmp_path / "clips").iterdir()] == ["k1.npz"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_entries_get_the_mode_the_umask_gives_new_files(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = ClipCache(tmp_path).write_atomic("k1", {"a": np.zeros(3)})
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_failed_write_leaves_neither_file_nor_temp(tmp_path, monkeypatch):
    cache = ClipCache(tmp_path)
    cache.write_atomic("k1", {"x": np.zeros(3)})

    def broken(file, **arrays):
        file.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="disk full"):
        cache.write_atomic("k1", {"x": np.ones(3)})
    with pytest.raises(OSError):
        cache.write_atomic("k2", {"x": np.ones(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k1.npz"]
    assert np.array_equal(cache.read("k1")["x"], np.zeros(3))


def test_corrupt_and_missing_entries_are_named(tmp_path):
    cache = ClipCache(tmp_path)
    cache.path_for("bad").write_bytes(b"not a zip")
    with pytest.raises(CorruptCacheEntryError, match="bad.npz"):
        cache.read("bad")
    cache.write_atomic("partial", {"x": np.zeros(1)})
    with pytest.raises(CorruptCacheEntryError, match="lacks"):
        cache.read("partial", ["meta"])
    with pytest.raises(FileNotFoundError, match="missing"):
        cache.read("missing")


@pytest.mark.parametrize("key", ["../escape", "a/b", ".hidden", ""])
def test_keys_cannot_leave_the_folder(tmp_path, key):
    with pytest.raises(ValueError, match="invalid cache key"):
        ClipCache(tmp_path).path_for(key)
