"""Width presets of MOL: one structure, different channel counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MOLWidths:
    """Channel widths and depths of one MOL size.

    The conv stack and the flow encoder each halve the frame once per entry, so both reach the
    same feature size ``image_size / 2**len(stack)`` where F5C features and correlation meet.
    """

    stack: tuple[int, ...]
    """Conv stack widths, one stride-2 block each; the last is C, the F5C feature channels."""
    flow_encoder: tuple[int, ...]
    """FlowNetC encoder widths, one stride-2 conv each (kernels 7, then 5; with the reference
    flow layers 6, 4, 2)."""
    flow_redirect: int
    """1x1 projection of the first frame's encoder features, concatenated with the correlation."""
    flow_fuse: int
    """Width of the conv fusing correlation, redirect and both F5C feature maps."""
    flow_down: tuple[int, ...]
    """Widths of the stride-2 stages (two convs each) below the correlation scale."""
    flow_decoder: tuple[int, ...]
    """Refinement deconv widths, coarse to fine; one per scale up to the full frame."""
    landmark_conv: int
    """Channels of the landmark head's 3x3 conv."""
    landmark_hidden: int
    """Hidden width of the landmark head's MLP."""
    mer_conv: int
    """Channels of the MER head's 3D conv."""
    mer_hidden: int
    """Hidden width of the MER head's MLP."""
    mer_dropout: float
    """Dropout before each of the MER head's linear layers (the reference code's is 0.5; in
    the small head, 32 hidden units, that much held recognition back: see the README)."""
    image_size: int = 128
    """Side of the square input frames."""
    n_frames: int = 8
    """Frames per clip; the heads see the n_frames - 1 consecutive pairs."""
    patch_size: int = 21
    """Correlation patch: patch_size**2 displacements."""
    dilation: int = 2
    """Correlation displacement step in feature pixels."""

    def __post_init__(self) -> None:
        if len(self.flow_encoder) != len(self.stack):
            raise ValueError(
                f"flow_encoder {self.flow_encoder} and stack {self.stack} must downsample the "
                "frame equally often (same length) so correlation and F5C features align"
            )
        if len(self.flow_decoder) != len(self.flow_down) + len(self.flow_encoder):
            raise ValueError(
                f"flow_decoder needs {len(self.flow_down) + len(self.flow_encoder)} widths (one "
                f"per scale back to the full frame), got {len(self.flow_decoder)}"
            )
        if self.image_size % 2 ** (len(self.stack) + len(self.flow_down)):
            raise ValueError(
                f"image_size {self.image_size} must be divisible by "
                f"2**{len(self.stack) + len(self.flow_down)}"
            )

    @property
    def channels(self) -> int:
        """C, the channels of the F5C feature maps."""
        return self.stack[-1]

    @property
    def reference_stack(self) -> tuple[int, ...]:
        """Widths of the public code's four-conv stack at this size: a quarter of the first
        stage, then the stage widths (the paper preset gives the code's 8, 32, 64, 128)."""
        return (max(1, self.stack[0] // 4), *self.stack)

    @property
    def feature_size(self) -> int:
        """Side of the F5C feature maps (16 for 128x128 frames)."""
        return self.image_size // 2 ** len(self.stack)


PRESETS: dict[str, MOLWidths] = {
    # The reference setup's widths: FlowNetC's, 128-channel F5C features; 44.8 M parameters
    # (44.1 M with the reference variant and flow layers, as the public code).
    "paper": MOLWidths(
        stack=(32, 64, 128),
        flow_encoder=(64, 128, 256),
        flow_redirect=32,
        flow_fuse=256,
        flow_down=(512, 512, 1024),
        flow_decoder=(512, 256, 128, 128, 64, 32),
        landmark_conv=32,
        landmark_hidden=512,
        mer_conv=32,
        mer_hidden=256,
        mer_dropout=0.5,
    ),
    # Same structure, few channels: a training step on a CPU in a fraction of a second.
    "small": MOLWidths(
        stack=(8, 16, 32),
        flow_encoder=(4, 8, 32),
        flow_redirect=8,
        flow_fuse=16,
        flow_down=(32, 32, 64),
        flow_decoder=(32, 16, 16, 16, 8, 4),
        landmark_conv=8,
        landmark_hidden=64,
        mer_conv=8,
        mer_hidden=32,
        mer_dropout=0.1,
    ),
}


def get_preset(name: str) -> MOLWidths:
    """Widths of the preset called ``name``; raises naming the valid presets."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown MOL preset {name!r}; valid presets: {sorted(PRESETS)}") from None
