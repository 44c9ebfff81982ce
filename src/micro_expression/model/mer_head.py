"""Micro-expression recognition head of MOL: a 3D CNN over the stacked F5C feature maps."""

from __future__ import annotations

from torch import Tensor, nn

TIME_KERNEL = 5
"""Temporal extent of the 3D convolution (over the stacked maps)."""


class MERHead(nn.Module):
    """3D conv (5 maps x 2 x 2, spatial stride 2), max pool 2, dropout, MLP to class logits.

    ``normalised``: batch norm and ReLU between the 3D conv and the pool; the public MOL code
    has neither (``normalised=False`` reproduces it).

    Shapes: (B, M, C, s, s) with M = ``n_maps`` stacked feature maps -> (B, n_classes).
    """

    def __init__(
        self,
        channels: int,
        size: int,
        n_maps: int,
        conv_channels: int,
        hidden: int,
        n_classes: int,
        dropout: float = 0.5,
        normalised: bool = True,
    ) -> None:
        super().__init__()
        if n_maps < TIME_KERNEL + 1 or size < 4:
            raise ValueError(
                f"MERHead needs >= {TIME_KERNEL + 1} maps of >= 4x4, got {n_maps} of {size}x{size}"
            )
        pooled = conv_channels * ((n_maps - TIME_KERNEL + 1) // 2) * (size // 4) ** 2
        conv = nn.Conv3d(channels, conv_channels, (TIME_KERNEL, 2, 2), stride=(1, 2, 2))
        norm_act = (nn.BatchNorm3d(conv_channels), nn.ReLU(inplace=True)) if normalised else ()
        self.features = nn.Sequential(conv, *norm_act, nn.MaxPool3d(2))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(pooled, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, maps: Tensor) -> Tensor:
        return self.classifier(self.features(maps.transpose(1, 2)))
