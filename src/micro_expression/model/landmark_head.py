"""Facial landmark regression head of MOL."""

from __future__ import annotations

from torch import Tensor, nn

OUTPUTS = ("normalised", "pixels")


class LandmarkHead(nn.Module):
    """Valid 3x3 conv and a two-layer MLP regressing 68 (x, y) points from one F5C feature map.

    ``output="normalised"``: the MLP predicts coordinates in [-1, 1] across the frame (a scale
    that suits its init), returned in pixels of the ``image_size`` frame:
    ``(p + 1) * image_size / 2``. ``"pixels"``: the MLP regresses pixels directly, as the public
    code does (``LDM_predictor.py``): the same functions, but training starts with every point
    near the corner (0, 0), not the centre, and the gradients reaching the MLP are
    image_size / 2 times smaller.

    Shapes: (N, C, s, s) -> (N, n_landmarks, 2), (x, y) in pixels.
    """

    def __init__(
        self,
        channels: int,
        size: int,
        conv_channels: int,
        hidden: int,
        image_size: int,
        n_landmarks: int = 68,
        output: str = "normalised",
    ) -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"landmark output must be one of {OUTPUTS}, got {output!r}")
        self.pixels = output == "pixels"
        self.n_landmarks = n_landmarks
        self.image_size = image_size
        self.layers = nn.Sequential(
            nn.Conv2d(channels, conv_channels, 3),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(conv_channels * (size - 2) ** 2, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 2 * n_landmarks),
        )

    def forward(self, x: Tensor) -> Tensor:
        points = self.layers(x).reshape(-1, self.n_landmarks, 2)
        return points if self.pixels else (points + 1) * (self.image_size / 2)
