"""Training samples streamed from the per-clip cache of the preprocessed corpus.

Each clip entry of the :class:`~micro_expression.io.clip_cache.ClipCache` holds S samples
of ``frames`` (S, 8, C, C) uint8, ``flows`` (S, 7, C, C, 2) float16 (x, y crop pixels, frame t
-> t+1), ``landmarks`` (S, 8, 68, 2) float32 (x, y crop pixels) and ``apex_flow`` (S, C, C, 2)
float16 (first frame -> apex), C = 144 by default. A sample is cut to 128x128 (random window in
training, centre window at test), the same window for every array; landmarks are shifted on a
copy, never in place. Frames stay grey levels: the model normalises them itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from micro_expression.io.clip_cache import ClipArrays, ClipCache

CROP_SIZE = 128
FRAMES = 8
LANDMARKS = 68
FIELDS = ("frames", "flow", "landmarks", "apex_flow")
"""What a sample can hold besides its label; MOL reads the first three, the baseline the last."""

CLIP_COLUMNS = ["clip_id", "subject", "dataset", "label", "content_key", "n_samples"]


def class_names(index: pd.DataFrame, classes: Sequence[str] | None = None) -> list[str]:
    """The class list: ``classes`` when given, else the index's labels ordered by ``label_id``."""
    if classes:
        return [str(c) for c in classes]
    pairs = index[["label_id", "label"]].drop_duplicates().sort_values("label_id")
    if pairs["label_id"].duplicated().any():
        raise ValueError(f"label_id maps to several labels: {pairs.to_dict('records')}")
    return pairs["label"].astype(str).tolist()


def fold_clip_table(
    index: pd.DataFrame, fold_rows: pd.DataFrame, classes: Sequence[str]
) -> pd.DataFrame:
    """The fold's clips with their ``role`` and ``target`` (position of the label in ``classes``).

    Clips whose label is not one of ``classes`` are left out.
    """
    table = fold_rows[["clip_id", "role"]].merge(
        index[CLIP_COLUMNS], on="clip_id", how="left", validate="one_to_one"
    )
    unknown = table["content_key"].isna()
    if unknown.any():
        raise ValueError(
            "clips of the folds table missing from preprocessed_index (rerun splitting): "
            f"{table.loc[unknown, 'clip_id'].tolist()[:5]}"
        )
    table = table[table["label"].isin(classes)].reset_index(drop=True)
    positions = {c: i for i, c in enumerate(classes)}
    return table.assign(target=table["label"].map(positions).astype(int))


def read_clip(store: ClipCache, key: str) -> ClipArrays:
    """Read and check one clip entry; errors name the file and what is wrong with it."""
    try:
        arrays = ClipArrays.from_dict(store.read(key))
    except ValueError as error:
        raise ValueError(f"{store.path_for(key)}: {error}") from error
    s, size = arrays.frames.shape[0], arrays.frames.shape[-1]
    expected = {
        "frames": (s, FRAMES, size, size),
        "flows": (s, FRAMES - 1, size, size, 2),
        "landmarks": (s, FRAMES, LANDMARKS, 2),
        "apex_flow": (s, size, size, 2),
    }
    for name, shape in expected.items():
        if getattr(arrays, name).shape != shape:
            raise ValueError(
                f"{store.path_for(key)}: '{name}' has shape {getattr(arrays, name).shape}, "
                f"expected {shape}"
            )
    if size < CROP_SIZE:
        raise ValueError(f"{store.path_for(key)}: crops of {size} px are smaller than {CROP_SIZE}")
    for name in expected:
        getattr(arrays, name).flags.writeable = False
    return arrays


def centre_offset(size: int, crop: int = CROP_SIZE) -> tuple[int, int]:
    """(top, left) of the centre window."""
    return (size - crop) // 2, (size - crop) // 2


def random_offset(rng: np.random.Generator, size: int, crop: int = CROP_SIZE) -> tuple[int, int]:
    """(top, left) of a uniformly drawn window."""
    top, left = rng.integers(0, size - crop + 1, size=2)
    return int(top), int(left)


def crop_window(
    array: np.ndarray, top: int, left: int, crop: int = CROP_SIZE, vectors: bool = False
) -> np.ndarray:
    """The window of an (..., H, W) image stack, or with ``vectors`` of an (..., H, W, 2) flow,
    as a new array. Flow vectors are displacements, so the window leaves them unchanged."""
    rows, columns = slice(top, top + crop), slice(left, left + crop)
    if vectors:
        return array[..., rows, columns, :].copy()
    return array[..., rows, columns].copy()


def shift_landmarks(landmarks: np.ndarray, top: int, left: int) -> np.ndarray:
    """Landmark (x, y) coordinates in the window whose origin is (``top``, ``left``); a copy."""
    return landmarks - np.array([left, top], dtype=landmarks.dtype)


class ClipSamples(Dataset):
    """Every sample of the given clips, as model-ready tensors.

    ``clips`` needs ``CLIP_COLUMNS`` plus ``target`` (the class position); their arrays are read
    from ``store`` by ``content_key`` when first needed. ``augment`` draws a random window per
    item from a generator seeded by ``(seed, epoch, item)``, so a run is reproducible whatever
    the DataLoader workers; call :meth:`set_epoch` each pass. Without it the centre window is
    used. ``keep_in_memory`` keeps each clip's decompressed arrays after the first read.
    ``fields`` chooses what an item holds besides ``label`` and ``clip`` (see :data:`FIELDS`):
    ``frames`` (8, 128, 128) float32 grey levels, ``flow`` (7, 2, 128, 128) and ``apex_flow``
    (2, 128, 128) float32 pixels (channel 0 = x), ``landmarks`` (7, 68, 2) of frames 1..7.
    """

    def __init__(
        self,
        clips: pd.DataFrame,
        store: ClipCache,
        augment: bool,
        seed: int = 0,
        keep_in_memory: bool = True,
        fields: Sequence[str] = FIELDS[:3],
    ) -> None:
        missing = set(CLIP_COLUMNS + ["target"]) - set(clips.columns)
        if missing:
            raise KeyError(f"clip table lacks columns {sorted(missing)}")
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown sample fields {unknown}; known: {list(FIELDS)}")
        self.fields = tuple(fields)
        self.clips = clips.reset_index(drop=True)
        self.items = [
            (row, sample)
            for row, n in enumerate(self.clips["n_samples"].astype(int))
            for sample in range(n)
        ]
        self.store = store
        self.augment = augment
        self.seed = seed
        self.keep_in_memory = keep_in_memory
        self.epoch = 0
        self._arrays: dict[int, ClipArrays] = {}

    def set_epoch(self, epoch: int) -> None:
        """Choose the windows of the next pass."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def clip_arrays(self, row: int) -> ClipArrays:
        """The stored arrays of clip ``row``; checks the sample count against the index."""
        if row in self._arrays:
            return self._arrays[row]
        key = self.clips.at[row, "content_key"]
        arrays = read_clip(self.store, key)
        if arrays.n_samples != int(self.clips.at[row, "n_samples"]):
            raise ValueError(
                f"{self.store.path_for(key)}: holds {arrays.n_samples} samples, the index says "
                f"{int(self.clips.at[row, 'n_samples'])}"
            )
        if self.keep_in_memory:
            self._arrays[row] = arrays
        return arrays

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        row, sample = self.items[item]
        arrays = self.clip_arrays(row)
        size = arrays.frames.shape[-1]
        if self.augment:
            top, left = random_offset(np.random.default_rng([self.seed, self.epoch, item]), size)
        else:
            top, left = centre_offset(size)
        item = {
            "label": torch.tensor(int(self.clips.at[row, "target"])),
            "clip": torch.tensor(row),
        }
        if "frames" in self.fields:
            frames = crop_window(arrays.frames[sample], top, left)
            item["frames"] = torch.from_numpy(frames.astype(np.float32))
        if "flow" in self.fields:
            flows = crop_window(arrays.flows[sample], top, left, vectors=True)
            item["flow"] = torch.from_numpy(flows.astype(np.float32).transpose(0, 3, 1, 2).copy())
        if "landmarks" in self.fields:
            landmarks = shift_landmarks(arrays.landmarks[sample][1:], top, left)
            item["landmarks"] = torch.from_numpy(landmarks.astype(np.float32))
        if "apex_flow" in self.fields:
            apex = crop_window(arrays.apex_flow[sample], top, left, vectors=True)
            item["apex_flow"] = torch.from_numpy(apex.astype(np.float32).transpose(2, 0, 1).copy())
        return item
