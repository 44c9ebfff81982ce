"""Ground-truth sidecars of a corpus: the exact motion and landmarks of each clip.

Stored as ``<root>/ground_truth/<subject>/<clip>.npz`` beside the clips of a layout's root,
named after the clip id ``<dataset>/<subject>/<clip>`` its reader gives, holding
the parameters of the clip's :class:`~micro_expression.flow.deformation.ClipMotion` and its
landmark tracks; dense fields are computed from them on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from micro_expression.flow.deformation import Bumps, ClipMotion

GROUND_TRUTH_FOLDER = "ground_truth"

_ARRAYS = (
    "subject", "filename", "emotion", "action_units", "frame_numbers", "apex_index",
    "image_size", "landmarks", "bump_centres", "bump_vectors", "bump_radii",
    "envelope", "jitter", "jitter_centre",
)  # fmt: skip


def ground_truth_file(root: str | Path, subject: str, clip: str) -> Path:
    """Where a corpus at ``root`` keeps the ground truth of clip ``<subject>/<clip>`` (its clip
    id without the dataset)."""
    return Path(root) / GROUND_TRUTH_FOLDER / subject / f"{clip}.npz"


@dataclass(frozen=True)
class ClipGroundTruth:
    """True motion and landmarks of one clip; frame indices count from the onset (0)."""

    subject: str
    filename: str
    emotion: str
    action_units: str
    frame_numbers: np.ndarray
    apex_index: int
    image_size: tuple[int, int]
    landmarks: np.ndarray
    motion: ClipMotion

    @classmethod
    def from_motion(
        cls, *, onset_landmarks: np.ndarray, motion: ClipMotion, **fields
    ) -> ClipGroundTruth:
        """Build from the motion model, carrying the onset landmarks through every frame."""
        frames = range(motion.frame_count)
        landmarks = np.stack([motion.forward(onset_landmarks, t) for t in frames])
        return cls(landmarks=landmarks, motion=motion, **fields)

    @cached_property
    def _pixel_grid(self) -> np.ndarray:
        height, width = self.image_size
        xs, ys = np.meshgrid(np.arange(width, dtype=float), np.arange(height, dtype=float))
        return np.stack([xs.ravel(), ys.ravel()], axis=1)

    def _check_index(self, t_index: int) -> int:
        count = len(self.frame_numbers)
        if not -count <= t_index < count:
            raise IndexError(
                f"frame index {t_index} out of range for {self.subject}/{self.filename} "
                f"({count} frames)"
            )
        return t_index % count

    def _as_field(self, values: np.ndarray) -> np.ndarray:
        return values.reshape(*self.image_size, 2).astype(np.float32)

    def displacement(self, t_index: int) -> np.ndarray:
        """``(H, W, 2)`` float32 (x, y): onset pixel ``p`` is at ``p + d(p)`` in frame ``t_index``.
        """
        grid = self._pixel_grid
        return self._as_field(self.motion.forward(grid, self._check_index(t_index)) - grid)

    def flow_between(self, i: int, j: int) -> np.ndarray:
        """``(H, W, 2)`` float32 forward flow: pixel ``x`` of frame ``i`` is at ``x + f(x)`` in
        frame ``j`` (exact composition: back to the onset, then forward to ``j``)."""
        grid = self._pixel_grid
        onset = self.motion.backward(grid, self._check_index(i))
        return self._as_field(self.motion.forward(onset, self._check_index(j)) - grid)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The named arrays a ground-truth file holds, in the order they are written."""
        return {
            "subject": np.array(self.subject),
            "filename": np.array(self.filename),
            "emotion": np.array(self.emotion),
            "action_units": np.array(self.action_units),
            "frame_numbers": np.asarray(self.frame_numbers, dtype=np.int32),
            "apex_index": np.array(self.apex_index, dtype=np.int32),
            "image_size": np.array(self.image_size, dtype=np.int32),
            "landmarks": np.asarray(self.landmarks, dtype=np.float64),
            "bump_centres": self.motion.bumps.centres,
            "bump_vectors": self.motion.bumps.vectors,
            "bump_radii": self.motion.bumps.radii,
            "envelope": self.motion.envelope,
            "jitter": self.motion.jitter,
            "jitter_centre": self.motion.centre,
        }


def load_ground_truth(path: str | Path) -> ClipGroundTruth:
    """Read a clip's ``.npz`` ground truth; a missing file or array raises naming the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ground truth file not found: {path}")
    with np.load(path, allow_pickle=False) as archive:
        missing = [name for name in _ARRAYS if name not in archive.files]
        if missing:
            raise ValueError(f"{path}: not a ground truth file, missing arrays {missing}")
        arrays = {name: archive[name] for name in _ARRAYS}
    motion = ClipMotion(
        bumps=Bumps(
            centres=arrays["bump_centres"].reshape(-1, 2),
            vectors=arrays["bump_vectors"].reshape(-1, 2),
            radii=arrays["bump_radii"].reshape(-1),
        ),
        envelope=arrays["envelope"],
        jitter=arrays["jitter"],
        centre=arrays["jitter_centre"],
    )
    return ClipGroundTruth(
        subject=str(arrays["subject"]),
        filename=str(arrays["filename"]),
        emotion=str(arrays["emotion"]),
        action_units=str(arrays["action_units"]),
        frame_numbers=arrays["frame_numbers"].astype(np.int64),
        apex_index=int(arrays["apex_index"]),
        image_size=(int(arrays["image_size"][0]), int(arrays["image_size"][1])),
        landmarks=arrays["landmarks"],
        motion=motion,
    )
