"""Nodes of the inference pipeline: new recordings -> class probabilities per clip or window."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from micro_expression.evaluation.predictions import probability_column
from micro_expression.inference.stream import VideoUnreadable, score_video, window_digest
from micro_expression.inference.windows import WindowSchedule, window_plan
from micro_expression.io.clip_cache import ClipArrays, ClipCache
from micro_expression.io.packaged_model import LoadedModel
from micro_expression.preprocessing.executor import REJECTED, ClipTask, run_clips
from micro_expression.preprocessing.keys import content_key
from micro_expression.readers.recordings import Recordings

logger = logging.getLogger(__name__)

VIDEO_WINDOW_COLUMNS = [
    "source", "recording_id", "clip_id", "window", "first_frame", "last_frame", "n_frames",
    "fps", "known_label", "apex", "content_hash", "status", "reason",
]
"""The columns of :func:`score_videos`' table when there is no video (the scored rows add
the probabilities, the label and ``landmarks_outside``)."""
CLIP_COLUMNS = [
    "source", "recording_id", "clip_id", "window", "first_frame", "last_frame", "n_frames",
    "fps", "known_label", "frame_paths", "content_hash", "apex",
]
REJECTION_COLUMNS = ["source", "recording_id", "clip_id", "stage", "reason"]
SCORED, REJECTED_STATUS = "scored", "rejected"


def plan_clips(
    recordings: Recordings, model: LoadedModel, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One clip per frame folder or dataset clip, or sliding windows over one longer than
    ``params.long_factor`` times the model's longest training clip (videos are planned as
    they are decoded, by :func:`score_videos`); and the recordings that could not be read, as
    rejections."""
    frames = model.classifier.clip_frames
    rows = []
    for recording in recordings.recordings:
        if recording.is_video:
            continue  # scored as it is decoded: score_videos
        plan = window_plan(
            len(recording.frame_paths), int(frames["max"]), float(params["long_factor"]),
            params.get("window_frames"), params.get("stride_frames"), float(frames["median"]),
        )
        windowed = len(plan) > 1 or plan[0] != (0, len(recording.frame_paths) - 1)
        for first, last in plan:
            digests = recording.frame_digests[first:last + 1]
            numbers = (recording.first_frame + first, recording.first_frame + last)
            rows.append({
                "source": recording.source,
                "recording_id": recording.recording_id,
                "clip_id": f"{recording.recording_id}@{numbers[0]}-{numbers[1]}"
                if windowed else recording.recording_id,
                "window": windowed,
                "first_frame": numbers[0],
                "last_frame": numbers[1],
                "n_frames": last - first + 1,
                "fps": recording.fps,
                "known_label": recording.label,
                "frame_paths": list(recording.frame_paths[first:last + 1]),
                "content_hash": hashlib.sha256("\n".join(digests).encode()).hexdigest(),
                "apex": None if windowed else recording.apex,
            })
    problems = pd.DataFrame(
        [
            {"source": p.source, "recording_id": p.recording_id, "clip_id": p.recording_id,
             "stage": "read", "reason": p.reason}
            for p in recordings.problems
        ],
        columns=REJECTION_COLUMNS,
    )
    videos = sum(r.is_video for r in recordings.recordings)
    if not rows and not videos:
        reasons = "; ".join(f"{p.recording_id}: {p.reason}" for p in recordings.problems[:3])
        raise ValueError(f"nothing to score in {recordings.source}: {reasons or 'no recordings'}")
    logger.info("%d recordings -> %d clips to score (%d windowed) and %d videos to stream, "
                "%d unreadable", len(recordings.recordings), len(rows),
                sum(r["window"] for r in rows), videos, len(problems))
    return pd.DataFrame(rows, columns=CLIP_COLUMNS), problems


def preprocess_for_model(
    clips: pd.DataFrame, model: LoadedModel, clip_cache: ClipCache, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prepare every clip with the preprocessing settings the model was trained with,
    computing only what the model reads; a clip training already prepared (same frames, apex
    and settings) is read from the cache instead: (clip id -> cache key of the stored clips,
    rejections)."""
    reads = model.classifier.preprocessing
    config = replace(reads, workers=params.get("workers"))
    training = replace(config, outputs="all")
    tasks = []
    for row in clips.itertuples(index=False):
        apex = None if pd.isna(row.apex) else int(row.apex)
        key = content_key(row.content_hash, training, apex)
        if not clip_cache.contains(key):
            key = content_key(row.content_hash, config, apex)
        tasks.append(ClipTask(row.clip_id, tuple(row.frame_paths), key,
                              {"clip_id": row.clip_id, "sheet_apex": apex}, apex))
    outcomes = run_clips(tasks, clip_cache, config)
    stored = pd.DataFrame(
        [(o.clip_id, o.key) for o in outcomes if o.status != REJECTED],
        columns=["clip_id", "content_key"],
    )
    by_id = clips.set_index("clip_id")
    rejected = pd.DataFrame(
        [
            {"source": by_id.at[o.clip_id, "source"],
             "recording_id": by_id.at[o.clip_id, "recording_id"], "clip_id": o.clip_id,
             "stage": o.stage, "reason": o.reason}
            for o in outcomes if o.status == REJECTED
        ],
        columns=REJECTION_COLUMNS,
    )
    return stored, rejected


def score_videos(
    recordings: Recordings, model: LoadedModel, params: dict[str, Any]
) -> pd.DataFrame:
    """Every video scored as it is decoded, in memory that does not grow with its length
    (:func:`~micro_expression.inference.stream.score_video`): whole when it is at most
    ``params.long_factor`` times the model's longest training clip, else in sliding windows;
    one row per window, as :func:`score_clips` writes them, with its ``content_hash``. A video
    that stops decoding gets a rejected row with the reason, after the windows it scored."""
    classifier = model.classifier
    frames = classifier.clip_frames
    schedule = WindowSchedule.for_model(
        int(frames["max"]), float(params["long_factor"]), params.get("window_frames"),
        params.get("stride_frames"), float(frames["median"]),
    )
    workers = replace(classifier.preprocessing, workers=params.get("workers")).n_workers
    rows = []
    for video in (r for r in recordings.recordings if r.is_video):
        started, scores, failure = time.perf_counter(), [], None
        try:
            scores.extend(score_video(video.source, classifier, schedule, workers))
        except VideoUnreadable as error:
            failure = str(error)
        windowed = failure is not None or len(scores) > 1 or (
            len(scores) == 1 and scores[0].first > 0)
        for score in scores:
            numbers = (score.first + video.first_frame, score.last + video.first_frame)
            row = {
                "source": video.source, "recording_id": video.recording_id,
                "clip_id": f"{video.recording_id}@{numbers[0]}-{numbers[1]}"
                if windowed else video.recording_id,
                "window": windowed, "first_frame": numbers[0], "last_frame": numbers[1],
                "n_frames": score.last - score.first + 1, "fps": video.fps,
                "known_label": None, "apex": None,
                "content_hash": window_digest(video.content_hash, (score.first, score.last)),
            }
            if score.probabilities is None:
                row.update(status=REJECTED_STATUS, reason=f"{score.stage}: {score.reason}")
            else:
                row.update(_scored(classifier.classes, score.probabilities,
                                   score.landmarks_outside))
            rows.append(row)
        if failure is not None:
            rows.append({"source": video.source, "recording_id": video.recording_id,
                         "clip_id": video.recording_id, "window": windowed,
                         "content_hash": video.content_hash, "status": REJECTED_STATUS,
                         "reason": f"decode: {failure}"})
        seconds = time.perf_counter() - started
        duration = (scores[-1].last + 1) / video.fps if scores and video.fps else None
        logger.info("%s: %d windows scored in %.1f s%s", video.recording_id, len(scores),
                    seconds, f" ({duration / seconds:.2f}x real time, {duration:.1f} s long)"
                    if duration else "")
    if not rows:
        return pd.DataFrame(columns=VIDEO_WINDOW_COLUMNS)
    return pd.DataFrame(rows)


def _scored(classes: list[str], probabilities: np.ndarray, landmarks_outside: int
            ) -> dict[str, Any]:
    """A scored row's probabilities, label and status."""
    return {
        **dict(zip([probability_column(c) for c in classes], probabilities.astype(float))),
        "predicted_label": classes[int(np.argmax(probabilities))], "status": SCORED,
        "reason": None, "landmarks_outside": int(landmarks_outside),
    }


def score_clips(
    clips: pd.DataFrame,
    stored: pd.DataFrame,
    read_problems: pd.DataFrame,
    preprocessing_problems: pd.DataFrame,
    video_windows: pd.DataFrame,
    model: LoadedModel,
    clip_cache: ClipCache,
) -> pd.DataFrame:
    """One row per clip or window (the videos' windows after the clips): class probabilities
    and the predicted label (and how many of the face's 68 points fell outside the frame, at
    most, in a sampled frame), or the reason it could not be scored; every row names the
    model. Stops when nothing scored."""
    classifier = model.classifier
    columns = [probability_column(c) for c in classifier.classes]
    keys = stored.set_index("clip_id")["content_key"]
    problems = pd.concat([read_problems, preprocessing_problems], ignore_index=True)
    reasons = {r.clip_id: f"{r.stage}: {r.reason}" for r in problems.itertuples()}
    rows = []
    for clip in clips.to_dict("records"):
        row = {k: clip[k] for k in CLIP_COLUMNS if k not in ("frame_paths", "content_hash")}
        if clip["clip_id"] in keys.index:
            arrays = ClipArrays.from_dict(clip_cache.read(keys[clip["clip_id"]]))
            row.update(_scored(classifier.classes, classifier.probabilities(arrays),
                               arrays.landmarks_outside.max()))
        else:
            row.update(status=REJECTED_STATUS, reason=reasons.get(clip["clip_id"]))
        rows.append(row)
    rows += video_windows.drop(columns="content_hash").to_dict("records")
    rows += [
        {"source": r.source, "recording_id": r.recording_id, "clip_id": r.clip_id,
         "window": False, "status": REJECTED_STATUS, "reason": f"{r.stage}: {r.reason}"}
        for r in read_problems.itertuples()
    ]
    table = pd.DataFrame(rows)
    if not (table["status"] == SCORED).any():
        examples = "; ".join(f"{r.clip_id}: {r.reason}" for r in table.head(3).itertuples())
        raise ValueError(f"nothing could be scored in {table['source'].iloc[0]}: {examples}")
    for name in columns:
        table[name] = table[name].astype(float) if name in table else np.nan
    table = table.assign(model_name=model.name, model_version=model.version,
                         model_run_id=model.run_id, model_uri=model.uri)
    table["landmarks_outside"] = table.get("landmarks_outside", pd.Series(dtype=float)).astype(
        "Int64"
    )
    ordered = [c for c in CLIP_COLUMNS if c in table] + columns + [
        "predicted_label", "status", "reason", "landmarks_outside", "model_name",
        "model_version", "model_run_id", "model_uri",
    ]
    logger.info("scored %d clips, %d rejected", (table["status"] == SCORED).sum(),
                (table["status"] == REJECTED_STATUS).sum())
    return table.reindex(columns=ordered)


def plot_timelines(predictions: pd.DataFrame, max_clips: int = 40) -> dict[str, Figure]:
    """``clips.png``: the class probabilities of the scored clips (the first ``max_clips``)
    as stacked bars; and for each windowed recording, its windows' probabilities against
    time (or frame number when its frame rate is unknown). Keyed by file name."""
    columns = [c for c in predictions.columns if c.startswith(probability_column(""))]
    names = [c.removeprefix(probability_column("")) for c in columns]
    scored = predictions[predictions["status"] == SCORED]
    figures = {"clips.png": _clip_bars(scored.head(max_clips), columns, names)}
    windowed = scored[scored["window"].astype(bool)]
    for recording, part in windowed.groupby("recording_id"):
        part = part.sort_values("first_frame")
        centre = (part["first_frame"] + part["last_frame"]) / 2
        fps = part["fps"].iloc[0]
        x, label = (centre / fps, "time (s)") if pd.notna(fps) and fps else (centre, "frame")
        figure = Figure(figsize=(8.0, 3.2), layout="constrained")
        axes = figure.subplots()
        for column, name in zip(columns, names):
            axes.plot(x, part[column], marker="o", markersize=3, label=name)
        axes.set_ylim(0, 1)
        axes.set_xlabel(f"window centre, {label}")
        axes.set_ylabel("class probability")
        axes.set_title(f"{recording} ({len(part)} windows)")
        axes.legend(fontsize="small", ncol=len(columns))
        axes.grid(alpha=0.3)
        figures[re.sub(r"[^0-9A-Za-z_.-]+", "_", str(recording)) + ".png"] = figure
    return figures


def _clip_bars(scored: pd.DataFrame, columns: list[str], names: list[str]) -> Figure:
    figure = Figure(figsize=(7.0, 1.0 + 0.3 * max(len(scored), 1)), layout="constrained")
    axes = figure.subplots()
    left = np.zeros(len(scored))
    for column, name in zip(columns, names):
        axes.barh(scored["clip_id"], scored[column], left=left, label=name)
        left += scored[column].to_numpy()
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("class probability")
    axes.set_title("scored clips and windows")
    axes.legend(fontsize="small", ncol=len(columns), loc="lower right")
    return figure


def inference_tags(predictions: pd.DataFrame, clips: pd.DataFrame, video_windows: pd.DataFrame,
                   model: LoadedModel, inference: dict[str, Any]) -> dict[str, Any]:
    """What the run's MLflow record needs to trace its predictions: the model (URI, name,
    version, training run), the path the user gave and a digest of the input frames."""
    inputs = sorted([*clips["content_hash"], *video_windows["content_hash"]])
    digest = hashlib.sha256("\n".join(inputs).encode()).hexdigest()
    return {
        "inference.model_uri": model.uri,
        "inference.model_name": model.name,
        "inference.model_version": model.version,
        "inference.model_run_id": model.run_id,
        "inference.input_digest": digest,
        "inference.source": str(inference["source"]),
        "inference.clips_scored": int((predictions["status"] == SCORED).sum()),
        "inference.clips_rejected": int((predictions["status"] == REJECTED_STATUS).sum()),
    }
