"""Motion left on the rigid parts of real moving faces after the product's preprocessing.

The talking-face videos of :mod:`micro_expression.real_videos` (fetched on demand) are cut into
windows; each window goes through ``preprocess_clip`` (dlib detection and landmarks, per-clip
alignment, the chosen stabilisation, 8-frame even sampling). In the aligned crops, a head that
the alignment holds still shows no motion on the skin that expressions hardly move: the nose
bridge and the forehead. So the figure is the dense optical flow (OpenCV DIS, medium preset;
not TV-L1, which made the flow targets) from each window's first crop to each later one, its
median magnitude over that rigid mask (crop pixels), summarised over frames; the median over
the whole face (convex hull of the 68 landmarks) is given for context, and ``none / X`` is how
many times less rigid motion stabilisation X leaves than no stabilisation.

The configured preprocessing (``conf/base/parameters_preprocessing.yml``) is used with
``workers=1, flow_brightness=gain, sampling=even, frames_per_sample=8`` and the stabilisation
under test. Prints a Markdown table and saves ``benchmarks/results/real_videos.json``. When the
videos cannot be fetched it says so and exits 0 (a smoke test on a machine without network).
Usage: ``python benchmarks/real_videos.py [--videos NAME ...] [--frames 48] [--window 24]
[--stabilisation none ecc] [--motion euclidean|affine] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from micro_expression.face.alignment import inter_ocular_distance
from micro_expression.face.models import frontal_face_detector, landmark_predictor
from micro_expression.flow.tvl1 import brightness_matched
from micro_expression.preprocessing.clip import ClipRejected, Stopwatch, preprocess_clip
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.real_videos import VIDEOS, MediaMismatch, MediaUnavailable, fetch_videos

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "real_videos.json"
NOSE_HALF_WIDTH = 0.12  # nose bridge (points 27-30) half-width, in inter-ocular distances
FOREHEAD_GAP = 0.15  # forehead band ends this far above the highest brow point, in IODs
BROWS = slice(17, 27)


def load_params(name: str) -> dict[str, Any]:
    """The ``name`` block of ``conf/base/parameters_<name>.yml``."""
    path = PROJECT / "conf" / "base" / f"parameters_{name}.yml"
    return yaml.safe_load(path.read_text())[name]


def make_config(stabilisation: str, motion: str) -> PreprocessingConfig:
    """The configured preprocessing with this benchmark's settings, ``stabilisation`` and its
    ``motion`` model."""
    return dataclasses.replace(
        PreprocessingConfig.from_params(load_params("preprocessing")), workers=1,
        flow_brightness="gain", sampling="even", frames_per_sample=8,
        stabilisation=stabilisation, stabilisation_motion=motion,
    )


def decode_frames(video: Path, count: int, folder: Path) -> list[str]:
    """The first ``count`` frames of ``video`` as grayscale PNG files; their paths in order."""
    folder.mkdir(parents=True)
    capture = cv2.VideoCapture(str(video))
    paths = []
    try:
        while len(paths) < count:
            ok, frame = capture.read()
            if not ok:
                break
            path = folder / f"frame_{len(paths):05d}.png"
            cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
            paths.append(str(path))
    finally:
        capture.release()
    return paths


def windows(paths: list[str], length: int) -> list[list[str]]:
    """Consecutive, non-overlapping windows of ``length`` frames (a short tail is dropped)."""
    return [paths[start:start + length] for start in range(0, len(paths) - length + 1, length)]


def rigid_mask(landmarks: np.ndarray, size: int) -> tuple[np.ndarray, dict[str, int]]:
    """Nose bridge and visible forehead band of (68, 2) crop-pixel landmarks, and their sizes."""
    iod = float(inter_ocular_distance(landmarks))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    pixels = np.stack([xs, ys], axis=-1)
    start, end = landmarks[27].astype(np.float64), landmarks[30].astype(np.float64)
    along = np.clip(((pixels - start) @ (end - start)) / max(np.sum((end - start) ** 2), 1e-9),
                    0.0, 1.0)
    distance = np.linalg.norm(pixels - (start + along[..., None] * (end - start)), axis=-1)
    nose = distance <= NOSE_HALF_WIDTH * iod
    forehead_bottom = float(landmarks[BROWS, 1].min()) - FOREHEAD_GAP * iod
    forehead = (ys <= forehead_bottom) & (xs >= landmarks[17, 0]) & (xs <= landmarks[26, 0])
    parts = {"nose_bridge_px": int(nose.sum()), "forehead_px": int(forehead.sum()),
             "iod_px": iod}
    return nose | forehead, parts


def face_mask(landmarks: np.ndarray, size: int) -> np.ndarray:
    """The convex hull of the 68 landmarks in a ``size`` x ``size`` crop."""
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(landmarks).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(bool)


def crop_motion(crops: np.ndarray, landmarks: np.ndarray) -> dict[str, Any]:
    """Per later crop, the median DIS flow magnitude from the first crop over the rigid mask
    and over the face, for one sample's (L, C, C) crops and (L, 68, 2) landmarks."""
    size = crops.shape[-1]
    rigid, parts = rigid_mask(landmarks[0], size)
    face = face_mask(landmarks[0], size)
    # Scaled to the first crop's mean brightness (as the TV-L1 targets are): DIS assumes
    # constant brightness and would read a flicker as motion.
    matched = np.clip(np.rint(brightness_matched(crops, "gain") * 255), 0, 255).astype(np.uint8)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    rigid_px, face_px = [], []
    for later in matched[1:]:
        magnitude = np.linalg.norm(dis.calc(matched[0], later, None), axis=-1)
        rigid_px.append(float(np.median(magnitude[rigid])) if rigid.any() else float("nan"))
        face_px.append(float(np.median(magnitude[face])))
    return {"rigid_px": rigid_px, "face_px": face_px, **parts}


def score_window(paths: list[str], config: PreprocessingConfig) -> dict[str, Any]:
    """Preprocess one window and measure its rigid motion, or say why it was rejected."""
    stopwatch = Stopwatch()
    started = time.perf_counter()
    try:
        arrays = preprocess_clip(paths, config, stopwatch)
    except ClipRejected as rejected:
        return {"rejected": {"stage": rejected.stage, "reason": rejected.reason},
                "seconds": time.perf_counter() - started}
    seconds = time.perf_counter() - started
    motion = [crop_motion(arrays.frames[s], arrays.landmarks[s]) for s in range(arrays.n_samples)]
    return {"seconds": seconds, "stage_seconds": dict(stopwatch.seconds), "samples": motion}


def summarise(scored: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """Windows aligned, rigid motion median and p90 over frames, face-wide median, s/window."""
    aligned = [w for w in scored if "samples" in w]
    rigid = np.array([v for w in aligned for s in w["samples"] for v in s["rigid_px"]])
    face = np.array([v for w in aligned for s in w["samples"] for v in s["face_px"]])
    rejections: dict[str, int] = {}
    for window in scored:
        if "rejected" in window:
            stage = window["rejected"]["stage"]
            rejections[stage] = rejections.get(stage, 0) + 1

    def stat(values: np.ndarray, q: float) -> float | None:
        values = values[np.isfinite(values)]
        return float(np.percentile(values, q)) if values.size else None

    return {
        "windows_total": total,
        "windows_scored": len(aligned),
        "share_aligned": len(aligned) / total if total else None,
        "frames_scored": int(np.isfinite(rigid).sum()),
        "rigid_motion_median_px": stat(rigid, 50),
        "rigid_motion_p90_px": stat(rigid, 90),
        "face_motion_median_px": stat(face, 50),
        "seconds_per_window": float(np.mean([w["seconds"] for w in scored])) if scored else None,
        "rejections_by_stage": rejections,
        "rejection_reasons": [w["rejected"]["reason"] for w in scored if "rejected" in w][:5],
        "windows": scored,
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of the summary rows."""
    def number(value: float | None, digits: int = 3) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    lines = [
        "| video | stabilisation | windows scored / total | rigid motion median (px) | "
        "rigid motion p90 (px) | none / X (median) | face-wide median (px) | s / window |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['video']} | {row['stabilisation']} | {row['windows_scored']} / "
            f"{row['windows_total']} | {number(row['rigid_motion_median_px'])} | "
            f"{number(row['rigid_motion_p90_px'])} | {number(row['none_over_x'], 2)} | "
            f"{number(row['face_motion_median_px'])} | {number(row['seconds_per_window'], 2)} |"
        )
    return "\n".join(lines)


def ratio(none: float | None, other: float | None) -> float | None:
    """``none / other``, None when either is missing or ``other`` is zero."""
    return none / other if none is not None and other else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", choices=sorted(VIDEOS), default=list(VIDEOS))
    parser.add_argument("--frames", type=int, default=48, help="frames decoded per video")
    parser.add_argument("--window", type=int, default=24, help="frames per window (clip)")
    parser.add_argument("--stabilisation", nargs="+", default=["none", "ecc"])
    parser.add_argument("--motion", choices=["euclidean", "affine"],
                        default=load_params("preprocessing")["stabilisation_motion"],
                        help="stabilisation_motion (default: the configured one)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.frames < 1 or args.window < 1:
        parser.error("--frames and --window must be >= 1")
    # One core: the figures should not depend on what else the machine runs in parallel.
    cv2.setNumThreads(1)

    configs: dict[str, PreprocessingConfig] = {}
    for name in dict.fromkeys(args.stabilisation):
        try:
            configs[name] = make_config(name, args.motion)
        except ValueError as error:
            parser.error(f"--stabilisation {name}: {error}")
    try:
        paths = fetch_videos(args.videos)
    except MediaUnavailable as error:
        say(f"skipped: the real videos cannot be fetched here: {error.reason}")
        return
    except MediaMismatch as error:
        raise SystemExit(f"the real videos are not the pinned files: {error}") from error

    results: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "opencv": cv2.__version__,
            "opencv_threads": cv2.getNumThreads(),
        },
        "args": {"videos": args.videos, "frames": args.frames, "window": args.window,
                 "stabilisation": list(configs), "stabilisation_motion": args.motion},
        "configs": {name: config.output_settings() for name, config in configs.items()},
        "rigid_mask": {"nose_half_width_iod": NOSE_HALF_WIDTH, "forehead_gap_iod": FOREHEAD_GAP},
        "flow": "cv2.DISOpticalFlow PRESET_MEDIUM, first crop -> each later crop, gain-matched",
        "videos": {},
    }
    # Loaded once here, so the first window's seconds do not include the dlib models' load.
    frontal_face_detector(), landmark_predictor()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for video in args.videos:
            frames = decode_frames(paths[video], args.frames, Path(scratch) / video)
            cuts = windows(frames, args.window)
            entry = {"description": VIDEOS[video].description, "frames_decoded": len(frames),
                     "stabilisation": {}}
            for name, config in configs.items():
                summary = summarise([score_window(cut, config) for cut in cuts], len(cuts))
                entry["stabilisation"][name] = summary
                say(f"{video} / {name}: {summary['windows_scored']} of {len(cuts)} windows "
                    f"aligned, {summary['seconds_per_window'] or 0:.2f} s per window")
            results["videos"][video] = entry
            baseline = entry["stabilisation"].get("none", {}).get("rigid_motion_median_px")
            for name, summary in entry["stabilisation"].items():
                figures = {k: v for k, v in summary.items() if k not in ("windows",)}
                rows.append({"video": video, "stabilisation": name, **figures,
                             "none_over_x": ratio(baseline, summary["rigid_motion_median_px"])})
    results["rows"] = rows
    results["machine"]["load_average_at_end"] = os.getloadavg()
    say("")
    say(table(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=float))
    say(f"\nsaved {args.output}")


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a benchmark prints its figures


if __name__ == "__main__":
    main()
