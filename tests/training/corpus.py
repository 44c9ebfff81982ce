"""A tiny preprocessed corpus written the way preprocessing stores clips, for training tests.

Each clip is a textured background with a bright blob that moves 2 px per frame in a
direction set by its class, so flow, landmarks and class are all learnable: the stored flow
is the blob's displacement inside the blob, 0 elsewhere; the landmarks (a face-like
template) move with it. The apex is the last frame: the apex flow is the blob's whole
displacement, inside the blob where it starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from micro_expression.io.clip_cache import ClipCache

SIZE = 144
FRAMES = 8
CLASSES = ("negative", "positive", "surprise")
VELOCITIES = {"negative": (2.0, 0.0), "positive": (0.0, 2.0), "surprise": (-1.5, -1.5)}
BLOB_RADIUS = 12.0


def landmark_template(rng: np.random.Generator) -> np.ndarray:
    """68 (x, y) points: jaw, brows, nose and mouth on an ellipse, eyes as two small rings."""
    angles = np.linspace(0.0, 2 * np.pi, 68, endpoint=False)
    points = np.stack([72 + 40 * np.cos(angles), 72 + 50 * np.sin(angles)], axis=1)
    ring = np.stack([np.cos(angles[:6] * 68 / 6), np.sin(angles[:6] * 68 / 6)], axis=1) * 5
    points[36:42] = (52, 60) + ring
    points[42:48] = (92, 60) + ring
    return (points + rng.normal(0.0, 1.0, points.shape)).astype(np.float32)


def clip_arrays(label: str, rng: np.random.Generator, samples: int = 1) -> dict[str, np.ndarray]:
    """The stored arrays of one clip of class ``label`` (S = ``samples``)."""
    vx, vy = VELOCITIES[label]
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    frames = np.zeros((samples, FRAMES, SIZE, SIZE), np.uint8)
    flows = np.zeros((samples, FRAMES - 1, SIZE, SIZE, 2), np.float16)
    landmarks = np.zeros((samples, FRAMES, 68, 2), np.float32)
    apex_flow = np.zeros((samples, SIZE, SIZE, 2), np.float16)
    for s in range(samples):
        background = 90 + 25 * np.sin(xs / rng.uniform(5, 9)) * np.cos(ys / rng.uniform(5, 9))
        cx, cy = rng.uniform(60, 84, size=2)
        template = landmark_template(rng)
        for t in range(FRAMES):
            x0, y0 = cx + vx * t, cy + vy * t
            inside = (xs - x0) ** 2 + (ys - y0) ** 2 < BLOB_RADIUS**2
            image = background + 120 * inside + rng.normal(0.0, 2.0, background.shape)
            frames[s, t] = np.clip(image, 0, 255).astype(np.uint8)
            landmarks[s, t] = template + (vx * t, vy * t)
            if t < FRAMES - 1:
                flows[s, t][inside] = (vx, vy)
            if t == 0:
                apex_flow[s][inside] = (vx * (FRAMES - 1), vy * (FRAMES - 1))
    return {
        "frames": frames,
        "flows": flows,
        "landmarks": landmarks,
        "frame_numbers": np.tile(np.arange(FRAMES, dtype=np.int64), (samples, 1)),
        "transform": np.tile(np.eye(2, 3), (samples, FRAMES, 1, 1)),
        "apex_flow": apex_flow,
        "apex_frame_numbers": np.full(samples, FRAMES - 1, dtype=np.int64),
        "apex_from_sheet": np.ones(samples, dtype=bool),
        "landmarks_outside": np.zeros((samples, FRAMES), dtype=np.uint8),
        "stabilisation_fallback": np.zeros((samples, FRAMES), dtype=bool),
        "meta": json.dumps({"label": label}),
    }


def write_corpus(
    folder: Path,
    subjects: int = 3,
    clips_per_class: int = 1,
    samples: int = 1,
    seed: int = 0,
    dataset: str = "synthetic",
) -> pd.DataFrame:
    """Write the clips into a ClipCache at ``folder``; returns their preprocessed_index."""
    rng = np.random.default_rng(seed)
    store = ClipCache(folder)
    rows = []
    for n in range(1, subjects + 1):
        for label_id, label in enumerate(CLASSES):
            for c in range(clips_per_class):
                subject = f"{dataset}/sub{n:02d}"
                key = f"{dataset}_sub{n:02d}_{label}_{c}"
                path = store.write_atomic(key, clip_arrays(label, rng, samples))
                rows.append({
                    "clip_id": f"{subject}/{label}_{c}", "subject": subject, "dataset": dataset,
                    "label": label, "label_id": label_id, "file": str(path), "content_key": key,
                    "n_samples": samples, "status": "computed",
                })
    return pd.DataFrame(rows)
