"""The inference nodes on videos, without Kedro: windows named by their frame numbers, a video
that cannot be decoded a row with its reason, and both in the run's input digest."""

import numpy as np
import pandas as pd
import pytest

from micro_expression.io.packaged_model import LoadedModel
from micro_expression.pipelines.inference.nodes import (
    VIDEO_WINDOW_COLUMNS,
    inference_tags,
    plan_clips,
    score_clips,
    score_videos,
)
from micro_expression.readers.recordings import Recordings, discover
from tests.inference.videos import hollow_video, untrained_classifier, write_video
from tests.preprocessing.clips import astronaut_canvas

PARAMS = {"long_factor": 2.0, "window_frames": None, "stride_frames": None, "workers": 1}


@pytest.fixture(scope="module")
def model():
    return LoadedModel(untrained_classifier(clip_frames=12), "models:/m/1", "m", "1", "run")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    take = write_video(folder / "take.mp4",
                       [astronaut_canvas(0.4 * t, 0.2 * t) for t in range(30)])
    found = [discover(take).recordings[0], discover(hollow_video(folder / "hollow.avi"))
             .recordings[0]]
    return Recordings(str(folder), tuple(found))


def test_videos_are_streamed_in_windows_and_a_hollow_one_is_a_rejected_row(model, recordings):
    clips, problems = plan_clips(recordings, model, PARAMS)
    assert clips.empty and problems.empty  # videos are planned as they are decoded
    windows = score_videos(recordings, model, PARAMS)
    take = windows[windows["recording_id"] == "take.mp4"]
    # 30 frames > 2 x 12: windows of 12 every 6, the last on the last frame.
    assert take["clip_id"].tolist() == ["take.mp4@1-12", "take.mp4@7-18", "take.mp4@13-24",
                                        "take.mp4@19-30"]
    assert (take["status"] == "scored").all() and take["window"].all()
    assert take["fps"].eq(200).all() and take["content_hash"].nunique() == 4
    assert np.allclose(take[[c for c in take if c.startswith("prob_")]].sum(axis=1), 1)
    (hollow,) = windows[windows["recording_id"] == "hollow.avi"].itertuples()
    assert hollow.status == "rejected"
    source = recordings.recordings[1].source
    assert hollow.reason == f"decode: no frame could be decoded from {source}"

    table = score_clips(clips, pd.DataFrame(columns=["clip_id", "content_key"]), problems,
                        problems, windows, model, clip_cache=None)
    assert table["clip_id"].tolist() == [*take["clip_id"], "hollow.avi"]
    assert "content_hash" not in table and table["model_version"].eq("1").all()
    tags = inference_tags(table, clips, windows, model, {"source": recordings.source})
    other = inference_tags(table, clips, windows.iloc[1:], model, {"source": recordings.source})
    assert tags["inference.input_digest"] != other["inference.input_digest"]
    assert (tags["inference.clips_scored"], tags["inference.clips_rejected"]) == (4, 1)


def test_no_video_gives_an_empty_table_with_its_columns(model):
    windows = score_videos(Recordings("nothing"), model, PARAMS)
    assert windows.empty and list(windows.columns) == VIDEO_WINDOW_COLUMNS
