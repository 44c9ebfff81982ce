"""A trained model with the preprocessing it was trained on: frames in, class probabilities out.

The inference pipeline, the Python API and the HTTP server all score clips through
:meth:`ClipClassifier.probabilities`, so the three give the same numbers for the same clip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from micro_expression.io.clip_cache import ClipArrays
from micro_expression.model import input_key
from micro_expression.preprocessing.clip import preprocess_clip
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.frames import ClipFrames
from micro_expression.training.data import centre_offset, crop_window
from micro_expression.training.device import autocast, select_device
from micro_expression.training.loop import load_model


@dataclass
class ClipClassifier:
    """A model in eval mode, its class names, and how its training clips were prepared.

    ``clip_frames`` holds the min / median / max frame count (onset..offset) of the training
    clips, which decides when a recording is long enough for sliding windows.
    """

    model: torch.nn.Module
    architecture: str
    classes: list[str]
    preprocessing: PreprocessingConfig
    clip_frames: dict[str, float]
    device: torch.device

    @classmethod
    def from_checkpoint(
        cls, checkpoint: dict[str, Any], device: str = "auto", workers: int | None = 1
    ) -> ClipClassifier:
        """From a training checkpoint, which must carry its preprocessing settings; clips
        are prepared with only the outputs its architecture reads (no TV-L1 targets)."""
        if "preprocessing" not in checkpoint:
            raise ValueError(
                "the checkpoint carries no preprocessing settings (trained before they were "
                "recorded): retrain it with the current training pipeline"
            )
        target = select_device(device)
        architecture = checkpoint["model"]["architecture"]
        return cls(
            model=load_model(checkpoint, target),
            architecture=architecture,
            classes=list(checkpoint["classes"]),
            preprocessing=PreprocessingConfig.from_settings(
                checkpoint["preprocessing"], workers=workers, outputs=input_key(architecture)
            ),
            clip_frames=dict(checkpoint["clip_frames"]),
            device=target,
        )

    def model_input(self, arrays: ClipArrays) -> torch.Tensor:
        """The centre window of every sample of a preprocessed clip, as the model takes it:
        (S, 8, 128, 128) grey levels for MOL, (S, 2, 128, 128) apex flow for the baseline."""
        top, left = centre_offset(arrays.frames.shape[-1])
        if input_key(self.architecture) == "apex_flow":
            flows = crop_window(arrays.apex_flow, top, left, vectors=True).astype(np.float32)
            return torch.from_numpy(flows.transpose(0, 3, 1, 2).copy())
        return torch.from_numpy(crop_window(arrays.frames, top, left).astype(np.float32))

    @torch.no_grad()
    def probabilities(self, arrays: ClipArrays) -> np.ndarray:
        """Class probabilities of a preprocessed clip: softmax of each sample, averaged."""
        with autocast(self.device):
            logits = self.model.classify(self.model_input(arrays).to(self.device))
        return torch.softmax(logits.float(), dim=1).mean(dim=0).cpu().numpy()

    def prepare(self, frames: Sequence[str] | ClipFrames, apex: int | None = None) -> ClipArrays:
        """A clip's frames (files or decoded) prepared like the training data, with only what
        the model reads. Raises :class:`~micro_expression.preprocessing.clip.ClipRejected`."""
        return preprocess_clip(frames, self.preprocessing, apex=apex)

    def classify_frames(self, frames: Sequence[str] | ClipFrames, apex: int | None = None
                        ) -> np.ndarray:
        """:meth:`prepare`, then :meth:`probabilities`."""
        return self.probabilities(self.prepare(frames, apex))
