import numpy as np
import pytest

import micro_expression.preprocessing.executor as executor
from micro_expression.io.clip_cache import ClipCache
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.executor import ClipTask, run_clips
from tests.preprocessing.clips import (
    CANVAS,
    FAST_PARAMS,
    GREY,
    write_frames,
    write_moving_face_clip,
)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    root = tmp_path_factory.mktemp("executor")
    clips = {
        f"casme2/sub01/EP0{n}": write_moving_face_clip(root / f"EP0{n}", 9, step=(0.2 * n, 0.1))
        for n in (1, 2, 3)
    }
    clips["casme2/sub01/blank"] = write_frames(
        root / "blank", [np.full((*CANVAS, 3), GREY, np.uint8)] * 8
    )
    return [
        ClipTask(clip_id, tuple(paths), f"key{n}", {"clip_id": clip_id})
        for n, (clip_id, paths) in enumerate(clips.items())
    ]


def config(workers):
    return PreprocessingConfig.from_params({**FAST_PARAMS, "workers": workers})


def test_worker_processes_store_the_same_clips_as_one_process(tasks, tmp_path):
    parallel, serial = ClipCache(tmp_path / "parallel"), ClipCache(tmp_path / "serial")
    outcomes = run_clips(tasks, parallel, config(2), progress=False)
    run_clips(tasks, serial, config(1), progress=False)
    assert [o.status for o in outcomes] == ["computed"] * 3 + ["rejected"]
    assert [o.clip_id for o in outcomes] == [t.clip_id for t in tasks]
    assert outcomes[-1].stage == "detect" and not outcomes[-1].from_cache
    assert {"decode", "detect", "tvl1", "write"} <= set(outcomes[0].seconds)
    for task in tasks[:3]:
        a, b = parallel.read(task.key), serial.read(task.key)
        assert np.array_equal(a["frames"], b["frames"])
        assert np.allclose(a["flows"], b["flows"], atol=1e-2)


def test_second_run_reads_outcomes_back_without_computing(tasks, tmp_path, monkeypatch):
    cache = ClipCache(tmp_path)
    first = run_clips(tasks, cache, config(1), progress=False)
    monkeypatch.setattr(executor, "process_clip", _must_not_run)
    second = run_clips(tasks, cache, config(2), progress=False)
    assert [o.status for o in second] == ["cached"] * 3 + ["rejected"]
    assert all(o.from_cache for o in second)
    assert [o.n_samples for o in second] == [o.n_samples for o in first]
    assert (second[-1].stage, second[-1].reason) == (first[-1].stage, first[-1].reason)


def test_unreadable_cache_file_is_recomputed(tasks, tmp_path):
    cache = ClipCache(tmp_path)
    run_clips(tasks[:1], cache, config(1), progress=False)
    cache.path_for(tasks[0].key).write_bytes(b"garbage")
    [outcome] = run_clips(tasks[:1], cache, config(1), progress=False)
    assert outcome.status == "computed"
    assert cache.read(tasks[0].key)["frames"].shape == (1, 8, 64, 64)


def test_stored_meta_carries_task_meta_and_sample_count(tasks, tmp_path):
    import json

    cache = ClipCache(tmp_path)
    run_clips(tasks[:1], cache, config(1), progress=False)
    meta = json.loads(str(cache.read(tasks[0].key, ["meta"])["meta"]))
    assert meta["clip_id"] == tasks[0].clip_id and meta["n_samples"] == 1
    assert meta["rejection"] is None and meta["quality"] is None  # no ground truth here


def _must_not_run(*args, **kwargs):
    raise AssertionError("a cached clip was computed again")
