"""Test clips: real JPEG files of the astronaut's face (scikit-image) on a 640x480 canvas."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from skimage import data

from micro_expression.readers.ground_truth import ground_truth_file

CANVAS = (480, 640)
GREY = 120


def astronaut_canvas(
    dx: float = 0.0, dy: float = 0.0, angle: float = 0.0, scale: float = 1.0
) -> np.ndarray:
    """The astronaut (face near (290, 120)) on a grey 640x480 canvas, moved by a similarity."""
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    transform = cv2.getRotationMatrix2D((290.0, 120.0), angle, scale)
    transform[:, 2] += (64 + dx, 40 + dy)
    return cv2.warpAffine(
        image, transform, CANVAS[::-1], flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(GREY, GREY, GREY),
    )


def write_frames(folder: Path, images: Sequence[np.ndarray], first_number: int = 46) -> list[str]:
    """JPEG files img<N>.jpg in CASME II style; returns their absolute paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset, image in enumerate(images):
        path = folder / f"img{first_number + offset}.jpg"
        if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f"could not write {path}")
        paths.append(str(path.resolve()))
    return paths


def write_moving_face_clip(
    folder: Path, n_frames: int = 10, step: tuple[float, float] = (0.3, 0.15), jitter: float = 0.0,
    seed: int = 0,
) -> list[str]:
    """A face drifting by ``step`` px per frame, with optional random rotation jitter (deg)."""
    rng = np.random.default_rng(seed)
    return write_frames(
        folder,
        [
            astronaut_canvas(step[0] * t, step[1] * t, angle=jitter * rng.standard_normal())
            for t in range(n_frames)
        ],
    )


def content_hash(frame_paths: Sequence[str]) -> str:
    """sha256 over the frames' bytes, as the ingestion pipeline computes it."""
    digest = hashlib.sha256()
    for path in frame_paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def clip_index(
    clips: dict[str, Sequence[str]], ground_truth: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A clip index with one row per ``clip_id -> frame paths`` (labels made up); clips named
    in ``ground_truth`` have that ground-truth file, the others none."""
    ground_truth = ground_truth or {}
    rows = []
    for number, (clip_id, paths) in enumerate(clips.items()):
        rows.append(
            {
                "dataset": "casme2",
                "subject": "/".join(clip_id.split("/")[:2]),
                "clip_id": clip_id,
                "frame_paths": list(paths),
                "n_frames": len(paths),
                "onset": 46,
                "apex": None,
                "offset": 46 + len(paths) - 1,
                "emotion": "happiness",
                "label": "positive",
                "label_id": number % 3,
                "content_hash": content_hash(paths),
                "fps": 200.0,
                "ground_truth_path": ground_truth.get(clip_id),
            }
        )
    return pd.DataFrame(rows)


# Small and fast settings for tests that exercise caching and rejections, not flow quality.
FAST_PARAMS = {
    "crop_size": 64,
    "tvl1": {"nscales": 2, "warps": 2, "inner_iterations": 10, "outer_iterations": 2},
    "workers": 1,
}


def generated_corpus_clips(
    root: Path, **params
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Write a tiny generated corpus (CASME II layout, with ground truth): its clips' frame
    paths and ground-truth files, by clip id."""
    from micro_expression.synthetic import generate_corpus

    settings = {"subjects": 1, "clips_per_class": 1, "frame_count": [10, 10], "seed": 3}
    generate_corpus({**settings, **params}).write(root)
    clips, ground_truth = {}, {}
    for clip in sorted((root / "CASME2_RAW_selected").glob("sub*/*")):
        clip_id = f"casme2/{clip.parent.name}/{clip.name}"
        frames = sorted(clip.glob("img*.jpg"), key=lambda p: int(p.stem[3:]))
        clips[clip_id] = [str(p) for p in frames]
        ground_truth[clip_id] = str(ground_truth_file(root, clip.parent.name, clip.name))
    return clips, ground_truth
