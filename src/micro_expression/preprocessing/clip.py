"""One clip: decode, align, sample, label landmarks and compute TV-L1 flow ground truth."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from micro_expression.face.alignment import (
    five_point_similarity,
    similarity_to_crop,
    transform_points,
    warp_to_crop,
)
from micro_expression.face.detection import (
    N_LANDMARKS,
    FaceBox,
    count_outside,
    detect_face,
    predict_landmarks,
)
from micro_expression.face.stabilisation import stabilising_transforms
from micro_expression.flow.tvl1 import (
    brightness_matched,
    create_tvl1,
    tvl1_flow,
    tvl1_sequence,
)
from micro_expression.io.clip_cache import ClipArrays
from micro_expression.preprocessing.apex import motion_apex_index, sheet_apex_index
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.frames import ClipFrames
from micro_expression.preprocessing.sampling import frame_numbers, sample_indices
from micro_expression.readers.images import declared_pixels, oversize_reason, special_file_reason


class ClipRejected(Exception):
    """Bad input: the clip is left out with a reason, and the run goes on.

    ``cacheable`` is False for failures that may be transient (a file that cannot be read).
    """

    def __init__(self, stage: str, reason: str, cacheable: bool = True) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
        self.cacheable = cacheable


class Stopwatch:
    """Seconds spent per stage, summed over calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start


def read_gray(path: str | Path) -> np.ndarray:
    """Decode an image file as 8-bit grayscale; rejects special, unreadable or corrupt files
    and frames whose header declares more than
    :data:`~micro_expression.readers.images.MAX_FRAME_PIXELS` (before decoding)."""
    if special := special_file_reason(path):
        raise ClipRejected("decode", f"cannot read {path}: {special}")
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise ClipRejected("decode", f"cannot read {path}: {error}", cacheable=False) from error
    pixels = declared_pixels(data.tobytes()) if data.size else None
    if pixels is None:
        raise ClipRejected("decode", f"cannot decode {path} ({data.size} bytes): corrupt or "
                           "not an image file")
    if too_large := oversize_reason(pixels):
        raise ClipRejected("decode", f"{path}: {too_large}")
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ClipRejected(
            "decode", f"cannot decode {path} ({data.size} bytes): corrupt or not an image"
        )
    return image


@dataclass(frozen=True)
class FrameFiles:
    """A clip's image files (:class:`~micro_expression.preprocessing.frames.ClipFrames`),
    numbered by their names' trailing digits."""

    paths: tuple[str, ...]
    numbers: np.ndarray

    @classmethod
    def of(cls, paths: Sequence[str | Path]) -> FrameFiles:
        return cls(tuple(str(p) for p in paths), frame_numbers(paths))

    def __len__(self) -> int:
        return len(self.paths)

    def gray(self, index: int) -> np.ndarray:
        return read_gray(self.paths[index])

    def name(self, index: int) -> str:
        return self.paths[index]


@lru_cache(maxsize=4)
def _estimator(tvl1_json: str) -> cv2.optflow.DualTVL1OpticalFlow:
    return create_tvl1(json.loads(tvl1_json))


def preprocess_clip(
    frames: Sequence[str] | ClipFrames,
    config: PreprocessingConfig,
    stopwatch: Stopwatch | None = None,
    apex: int | None = None,
) -> ClipArrays:
    """Aligned crops, TV-L1 flows, landmark labels and the onset-to-apex flow for one clip's
    frames (onset..offset: file paths or :class:`ClipFrames`); ``config.outputs`` other than
    ``all`` leaves the flows (and, for ``frames``, the apex flow and an estimated apex) empty,
    computing only what a model reads.

    ``apex`` is the coding sheet's apex frame number, used when the clip holds that frame
    (:func:`~micro_expression.preprocessing.apex.sheet_apex_index`) and ``config.apex`` is
    ``sheet``; otherwise each sample's apex is estimated from its crops
    (:func:`~micro_expression.preprocessing.apex.motion_apex_index`). Only the sampled frames
    and the apex are decoded (plus, in
    ``per_clip`` mode, the frames after the onset up to the first one with a face, when the
    onset has none). Raises ``ClipRejected``.
    """
    stopwatch = stopwatch or Stopwatch()
    if isinstance(frames, Sequence):
        frames = FrameFiles.of(frames)
    try:
        samples = sample_indices(
            len(frames), config.sampling, config.frames_per_sample, config.stride
        )
    except ValueError as error:
        raise ClipRejected("sampling", str(error)) from error
    sampled = [int(index) for index in np.unique(samples)]
    images: dict[int, np.ndarray] = {}

    def image(index: int) -> np.ndarray:
        if index not in images:
            with stopwatch("decode"):
                images[index] = frames.gray(index)
            first = next(iter(images))
            if images[index].shape != images[first].shape:
                (h1, w1), (h2, w2) = images[first].shape[:2], images[index].shape[:2]
                raise ClipRejected(
                    "decode",
                    f"frames differ in size: {frames.name(first)} is {w1}x{h1}, "
                    f"{frames.name(index)} is {w2}x{h2}",
                )
        return images[index]

    numbers = frames.numbers
    sheet_apex = sheet_apex_index(numbers, apex) if config.apex == "sheet" else None
    apex_read = sheet_apex is not None and config.outputs != "frames"
    needed = sorted(set(sampled) | ({sheet_apex} if apex_read else set()))
    for index in needed:
        image(index)
    align = _align_per_clip if config.alignment == "per_clip" else _align_per_frame
    aligned = align(frames, image, needed, config, stopwatch)
    transforms, landmarks = aligned.transforms, aligned.landmarks

    with stopwatch("warp"):
        crops = {i: warp_to_crop(images[i], transforms[i], config.crop_size, config.crop_border)
                 for i in needed}
    estimator = _estimator(json.dumps(dict(config.tvl1), sort_keys=True))

    def flow_input(indices: Sequence[int]) -> np.ndarray:
        return brightness_matched(np.stack([crops[i] for i in indices]), config.flow_brightness)

    size, n_samples = config.crop_size, len(samples)
    sample_crops = np.stack([[crops[i] for i in sample] for sample in samples])
    sample_landmarks = np.stack([[landmarks[i] for i in sample] for sample in samples])
    flows = np.zeros((n_samples, 0, size, size, 2), np.float32)
    if config.outputs == "all":
        with stopwatch("tvl1"):
            flows = np.stack([tvl1_sequence(estimator, flow_input(sample)) for sample in samples])
    apexes = None  # "frames" without a sheet apex: no model reads one
    if sheet_apex is not None:
        apexes = np.full(n_samples, sheet_apex, dtype=np.int64)
    elif config.outputs != "frames":
        with stopwatch("apex"):
            apexes = motion_apex_index(sample_crops, sample_landmarks, samples)
    apex_flow = np.zeros((n_samples, 0, 0, 2), np.float32)
    if config.outputs != "frames":
        with stopwatch("tvl1"):
            apex_flow = np.stack(
                [tvl1_flow(estimator, *flow_input([s[0], a])) for s, a in zip(samples, apexes)]
            )
    return ClipArrays(
        frames=sample_crops,
        flows=flows.astype(np.float16),
        landmarks=sample_landmarks.astype(np.float32),
        frame_numbers=numbers[samples],
        transform=np.stack([[transforms[i] for i in sample] for sample in samples]),
        apex_flow=apex_flow.astype(np.float16),
        apex_frame_numbers=np.full(n_samples, -1) if apexes is None else numbers[apexes],
        apex_from_sheet=np.full(n_samples, sheet_apex is not None),
        landmarks_outside=np.array(
            [[aligned.landmarks_outside[i] for i in sample] for sample in samples], dtype=np.uint8
        ),
        stabilisation_fallback=np.array(
            [[aligned.fallback[i] for i in sample] for sample in samples], dtype=bool
        ),
    )


def unstabilised_crops(frame_paths: Sequence[str], arrays: ClipArrays, sample: int = 0
                       ) -> np.ndarray:
    """(L, C, C) crops of one stored sample's frames warped with its first frame's transform
    alone: what the crops would show without stabilisation (for QA images)."""
    position = {int(n): i for i, n in enumerate(frame_numbers(frame_paths))}
    transform, size = arrays.transform[sample, 0], arrays.frames.shape[-1]
    return np.stack([
        warp_to_crop(read_gray(frame_paths[position[int(number)]]), transform, size)
        for number in arrays.frame_numbers[sample]
    ])


ImageGetter = Callable[[int], np.ndarray]


@dataclass
class AlignedFrames:
    """Per frame index: image -> crop transform, landmarks in the crop, how many predicted
    points fell outside the frame, and whether stabilisation fell back to the landmark fit."""

    transforms: dict[int, np.ndarray]
    landmarks: dict[int, np.ndarray]
    landmarks_outside: dict[int, int]
    fallback: dict[int, bool]


def _align_per_clip(
    frames: ClipFrames,
    image: ImageGetter,
    sampled: list[int],
    config: PreprocessingConfig,
    stopwatch: Stopwatch,
) -> AlignedFrames:
    """One transform for the whole clip, from the first frame (onset on) with a face, then
    each frame's rigid head motion removed by ``config.stabilisation``.

    Landmark labels: the predictor runs on every sampled frame inside the reference frame's
    face box (no re-detection), and its points are mapped into the crop by the frame's
    transform.
    """
    for reference in range(len(frames)):
        with stopwatch("detect"):
            box = detect_face(image(reference), config.upsample_levels)
        if box is not None:
            break
    else:
        raise ClipRejected(
            "detect", f"no face found in any of the {len(frames)} frames from {frames.name(0)}"
        )
    with stopwatch("landmarks"):
        reference_points, _ = _landmarks_inside(
            image(reference), box, frames.name(reference), config
        )
        transform = _similarity(reference_points, config, frames.name(reference))
        predicted = {i: _landmarks_inside(image(i), box, frames.name(i), config) for i in sampled}
    moving = [i for i in sampled if i != reference]
    with stopwatch("stabilise"):
        corrected, fallbacks = stabilising_transforms(
            image(reference), reference_points, [image(i) for i in moving],
            [predicted[i][0] for i in moving], transform, config.crop_size,
            config.stabilisation, config.stabilisation_motion,
        )
    transforms = {i: transform for i in sampled} | dict(zip(moving, corrected, strict=True))
    fell_back = {i: False for i in sampled} | dict(zip(moving, fallbacks, strict=True))
    return AlignedFrames(
        transforms=transforms,
        landmarks={i: transform_points(predicted[i][0], transforms[i]) for i in sampled},
        landmarks_outside={i: predicted[i][1] for i in sampled},
        fallback=fell_back,
    )


def _align_per_frame(
    frames: ClipFrames,
    image: ImageGetter,
    sampled: list[int],
    config: PreprocessingConfig,
    stopwatch: Stopwatch,
) -> AlignedFrames:
    """The public MOL code's way: detect, predict and align every sampled frame on its own."""
    aligned = AlignedFrames({}, {}, {}, {i: False for i in sampled})
    for i in sampled:
        with stopwatch("detect"):
            box = detect_face(image(i), config.upsample_levels)
        if box is None:
            raise ClipRejected(
                "detect",
                f"no face found in {frames.name(i)} (per_frame alignment needs one in every "
                "sampled frame)",
            )
        with stopwatch("landmarks"):
            points, aligned.landmarks_outside[i] = _landmarks_inside(
                image(i), box, frames.name(i), config
            )
            aligned.transforms[i] = _similarity(points, config, frames.name(i))
            aligned.landmarks[i] = transform_points(points, aligned.transforms[i])
    return aligned


def _landmarks_inside(
    gray: np.ndarray, box: FaceBox, path: str, config: PreprocessingConfig
) -> tuple[np.ndarray, int]:
    """The 68 points and how many fall outside the frame; a face with more than
    ``config.max_landmarks_outside`` outside is cut off too much to align."""
    points = predict_landmarks(gray, box)
    outside = count_outside(points, gray.shape)
    if outside > config.max_landmarks_outside:
        height, width = gray.shape[:2]
        raise ClipRejected(
            "landmarks",
            f"{outside} of {N_LANDMARKS} landmarks fall outside the {width}x{height} frame "
            f"{path} (face cut at the border; at most {config.max_landmarks_outside} may, "
            "preprocessing.max_landmarks_outside)",
        )
    return points, outside


def _similarity(points: np.ndarray, config: PreprocessingConfig, path: str) -> np.ndarray:
    try:
        if config.crop_geometry == "reference":
            return five_point_similarity(points, config.crop_size)
        return similarity_to_crop(points, config.crop_size, config.face_margin)
    except ValueError as error:
        raise ClipRejected("landmarks", f"{path}: {error}") from error
