import pytest

from micro_expression.inference.limits import RecordRefused, RequestBudget, ServingLimits


def test_the_defaults_read_no_paths_and_round_trip_through_a_model_config():
    limits = ServingLimits()
    assert limits.path_roots == () and limits.resolved_roots() == ()
    assert ServingLimits.from_config(limits.as_config()) == limits
    assert ServingLimits.from_config(None) == limits
    assert ServingLimits.from_config({"serving": {"path_roots": "/data"}}).path_roots == ("/data",)
    assert list(limits.as_config()) == ["serving"]  # MLflow logs them as serving/<limit>


def test_a_misspelt_or_impossible_limit_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown serving limits \['path_root'\]"):
        ServingLimits.from_config({"serving": {"path_root": ["/data"]}})
    with pytest.raises(ValueError, match=r"unknown model config keys \['path_roots'\]: the "
                                         r"limits go in \{'serving'"):
        ServingLimits.from_config({"path_roots": ["/data"]})
    with pytest.raises(ValueError, match="max_request_frames must be >= 1, got 0"):
        ServingLimits.from_config({"serving": {"max_request_frames": 0}})
    with pytest.raises(ValueError, match="max_request_seconds must be > 0 or null"):
        ServingLimits(max_request_seconds=-1)


def test_links_in_a_root_are_resolved_so_they_cannot_lead_out(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert ServingLimits(path_roots=(str(tmp_path / "link"),)).resolved_roots() == (
        tmp_path.resolve() / "real",
    )


def test_the_request_time_stops_short_of_the_servers_timeout():
    served = {"MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT": "60"}
    assert ServingLimits().seconds({}) is None
    assert ServingLimits().seconds(served) == 55.0
    assert ServingLimits(max_request_seconds=10).seconds(served) == 10
    assert ServingLimits(max_request_seconds=100).seconds(served) == 55.0


def test_records_past_the_deadline_are_refused():
    now = [0.0]
    budget = RequestBudget(ServingLimits(max_request_seconds=5), clock=lambda: now[0], environ={})
    budget.check_time()
    now[0] = 5.5
    with pytest.raises(RecordRefused, match="ran past its 5 s; send fewer records"):
        budget.check_time()


def test_frames_and_pixels_are_counted_over_the_request():
    budget = RequestBudget(
        ServingLimits(max_frame_pixels=100, max_request_frames=5, max_request_pixels=300),
        environ={},
    )
    budget.admit([100, 100])
    with pytest.raises(RecordRefused, match="frame 1: its header declares 0.0 Mpx, more than"):
        budget.admit([10, 101])
    with pytest.raises(RecordRefused, match="past its 5 frames"):
        budget.admit([1, 1, 1, 1])
    with pytest.raises(RecordRefused, match="past its 0 Mpx"):
        budget.admit([100, 100])
    assert (budget.frames, budget.pixels) == (2, 200)  # refused records count for nothing
    budget.admit([50, 50, 0])
    assert (budget.frames, budget.pixels) == (5, 300)


def test_a_record_with_too_many_frames_is_refused_before_they_are_read():
    budget = RequestBudget(ServingLimits(max_request_frames=5), environ={})
    budget.check_count(5)
    with pytest.raises(RecordRefused, match="6 frames would take the request past its 5"):
        budget.check_count(6)
    assert budget.frames == 0  # checking counts nothing
