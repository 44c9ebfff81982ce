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
            logits = self.model(self.model_input(arrays).to(self.device)).logits
        return torch.softmax(logits.float(), dim=1).mean(dim=0).cpu().numpy()

    def classify_frames(self, frame_paths: Sequence[str], apex: int | None = None) -> np.ndarray:
        """Preprocess a clip's frames like the training data, then :meth:`probabilities`.
        Raises :class:`~micro_expression.preprocessing.clip.ClipRejected` on bad input."""
        return self.probabilities(preprocess_clip(frame_paths, self.preprocessing, apex=apex))
