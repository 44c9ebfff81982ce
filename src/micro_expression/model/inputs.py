"""How a clip's grey-level frames reach MOL: photometric normalisation and the change channel.

A micro-expression moves the face by a fraction of a pixel: the change it makes to a frame is
about 1 % of what the frame shows. A network that sees only normalised frames has to discover
that change under the appearance of the face and, on the generated corpus, does not (its
recognition loss stays at ln 3). Giving every frame a second channel, its change from the
first (onset) frame scaled to unit variance, puts the motion on the same footing as the
appearance while the appearance stays for the landmark and flow tasks.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

REPRESENTATIONS = ("frames", "frames_and_change")
NORMALISATIONS = ("clip", "frame")
EPS = 1e-6


class EncodedFrames(NamedTuple):
    """What :class:`FrameEncoding` gives MOL for a batch of B clips of T frames of S x S."""

    channels: Tensor
    """(B, T, C, S, S) the network input, C = 1 (frames) or 2 (frames and change)."""
    normalised: Tensor
    """(B, T, S, S) the normalised frames alone, for the flow network's encoder."""


class FrameEncoding(nn.Module):
    """Grey levels (0-255) to normalised frames, optionally with their change from the first.

    ``normalisation="clip"``: one mean and standard deviation for the whole clip (as the paper
    describes); ``"frame"``: each frame its own, which also removes global illumination
    flicker. ``representation="frames"``: one channel per frame (the paper);
    ``"frames_and_change"``: a second channel ``n_t - n_0`` divided by its standard deviation over
    the clip. Parameter-free, so a checkpoint carries it as two strings.

    Shapes: frames (B, T, S, S) float -> :class:`EncodedFrames`.
    """

    def __init__(self, representation: str = "frames_and_change", normalisation: str = "frame"):
        super().__init__()
        if representation not in REPRESENTATIONS:
            raise ValueError(
                f"input representation must be one of {REPRESENTATIONS}, got {representation!r}"
            )
        if normalisation not in NORMALISATIONS:
            raise ValueError(
                f"input normalisation must be one of {NORMALISATIONS}, got {normalisation!r}"
            )
        self.representation = representation
        self.normalisation = normalisation

    @property
    def channels(self) -> int:
        """Input channels per frame that the conv stack receives."""
        return 2 if self.representation == "frames_and_change" else 1

    def forward(self, frames: Tensor) -> EncodedFrames:
        axes = (2, 3) if self.normalisation == "frame" else (1, 2, 3)
        mean = frames.mean(dim=axes, keepdim=True)
        std = frames.std(dim=axes, keepdim=True).clamp_min(EPS)
        normalised = (frames - mean) / std
        if self.representation == "frames":
            return EncodedFrames(normalised.unsqueeze(2), normalised)
        change = normalised - normalised[:, :1]
        change = change / change.std(dim=(1, 2, 3), keepdim=True).clamp_min(EPS)
        return EncodedFrames(torch.stack([normalised, change], dim=2), normalised)

    def extra_repr(self) -> str:
        return f"representation={self.representation!r}, normalisation={self.normalisation!r}"

