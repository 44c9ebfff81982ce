"""The flow baseline: STSTNet (Liong et al., FG 2019) on the onset-to-apex optical flow.

A shallow network of the field that sees no frames at all, only the TV-L1 flow from the onset
to the apex frame (computed in preprocessing) and its optical strain, resized to 28 x 28. It
tells whether MOL, which must find the motion in the frames itself, uses what the flow holds.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from micro_expression.model.mol import MOLOutput

INPUT_SIZE = 28
"""Side of STSTNet's input maps."""
STREAMS = (3, 5, 8)
"""Output channels of the three parallel 3x3 convolutions."""
EPS = 1e-6


def optical_strain(flow: Tensor) -> Tensor:
    """Magnitude of the strain tensor of a flow field, from central differences.

    ``sqrt(u_x^2 + v_y^2 + (u_y + v_x)^2 / 2)`` with u, v the x and y displacement.

    Shapes: (N, 2, H, W) -> (N, 1, H, W).
    """
    u, v = flow[:, :1], flow[:, 1:]
    u_y, u_x = torch.gradient(u, dim=(2, 3))
    v_y, v_x = torch.gradient(v, dim=(2, 3))
    return torch.sqrt(u_x**2 + v_y**2 + 0.5 * (u_y + v_x) ** 2 + EPS**2)


class ApexFlowEncoding(nn.Module):
    """Onset-to-apex flow to STSTNet's three input maps: strain, horizontal, vertical flow.

    The maps are area-averaged to ``size`` x ``size``; each is then divided by its root mean
    square over the clip, so the network sees where and in which direction the face moved,
    not how strongly (amplitudes differ by subject and clip). Parameter-free.

    Shapes: flow (B, 2, S, S) pixels, channel 0 = x -> (B, 3, size, size).
    """

    def __init__(self, size: int = INPUT_SIZE) -> None:
        super().__init__()
        self.size = size

    def forward(self, flow: Tensor) -> Tensor:
        maps = torch.cat([optical_strain(flow), flow], dim=1)
        maps = F.adaptive_avg_pool2d(maps, self.size)
        rms = maps.square().mean(dim=(2, 3), keepdim=True).sqrt().clamp_min(EPS)
        return maps / rms


class STSTNet(nn.Module):
    """Shallow triple-stream CNN: three parallel 3x3 convolutions (3, 5 and 8 channels, each
    with batch norm and ReLU), 3x3 max pool (stride 3), 2x2 average pool, one linear layer.

    Shapes: (B, 3, 28, 28) -> (B, n_classes).
    """

    def __init__(self, n_classes: int, dropout: float = 0.5, in_channels: int = 3) -> None:
        super().__init__()
        self.streams = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(in_channels, width, 3, padding=2),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, stride=3, padding=1),
                nn.AvgPool2d(2),
            )
            for width in STREAMS
        )
        # 28 -> 30 (conv, padding 2) -> 10 (max pool) -> 5 (average pool).
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(sum(STREAMS) * 5 * 5, n_classes)
        )

    def forward(self, maps: Tensor) -> Tensor:
        return self.classifier(torch.cat([stream(maps) for stream in self.streams], dim=1))


class FlowBaseline(nn.Module):
    """:class:`ApexFlowEncoding` then :class:`STSTNet`.

    Returns MOL's output type with logits only, so one loss and one evaluation serve both.

    Shapes: apex flow (B, 2, S, S) pixels -> :class:`MOLOutput` with logits (B, n_classes).
    """

    def __init__(self, n_classes: int = 3) -> None:
        super().__init__()
        self.encoding = ApexFlowEncoding()
        self.network = STSTNet(n_classes)

    def forward(self, apex_flow: Tensor) -> MOLOutput:
        if apex_flow.ndim != 4 or apex_flow.shape[1] != 2:
            raise ValueError(
                f"FlowBaseline expects an apex flow of shape (B, 2, S, S), got "
                f"{tuple(apex_flow.shape)}"
            )
        return MOLOutput(self.network(self.encoding(apex_flow)), None, None)

    def classify(self, apex_flow: Tensor) -> Tensor:
        """(B, n_classes) logits, as :meth:`forward` gives them."""
        return self.forward(apex_flow).logits
