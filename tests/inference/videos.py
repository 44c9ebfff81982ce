"""An untrained classifier and videos written by the tests, for the streaming tests."""

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch

from micro_expression.inference.classifier import ClipClassifier
from micro_expression.model import build_mol
from micro_expression.preprocessing.config import PreprocessingConfig
from tests.preprocessing.clips import CANVAS


def untrained_classifier(clip_frames: int = 12) -> ClipClassifier:
    """A small MOL with seeded random weights, preparing clips as the default settings do
    (only the crops a MOL reads); its training clips were ``clip_frames`` long."""
    torch.manual_seed(0)
    return ClipClassifier(
        model=build_mol("small", n_classes=3).eval(),
        architecture="mol",
        classes=["negative", "positive", "surprise"],
        preprocessing=replace(PreprocessingConfig(workers=1), outputs="frames"),
        clip_frames={"min": clip_frames, "median": clip_frames, "max": clip_frames},
        device=torch.device("cpu"),
    )


def write_video(path: Path, frames: list[np.ndarray], fps: float = 200) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, CANVAS[::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def hollow_video(path: Path) -> Path:
    """An AVI whose header opens but whose frames are all zeros: nothing decodes."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for n in range(5):
        writer.write(np.full((48, 64, 3), 40 * n, np.uint8))
    writer.release()
    data = bytearray(path.read_bytes())
    start, end = data.find(b"movi") + 4, data.find(b"idx1")
    data[start:end] = bytes(end - start)
    path.write_bytes(bytes(data))
    return path
