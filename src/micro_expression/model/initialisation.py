"""Initial weights: PyTorch's and ParC's defaults, or as the public MOL code draws them."""

from __future__ import annotations

import math

from torch import nn

from micro_expression.model.fcc import AxisPositionEmbedding, GlobalCircularConv

INITS = ("standard", "reference")
REFERENCE_FCC_KERNEL = 32
"""Length of the public code's FCC meta kernels (``FCC.py:53-56``); it crops them to the map
size, but draws them with the bound of their full length."""
REFERENCE_FLOW_LEAK = 0.1
"""The ``a`` of the public code's ``kaiming_normal_`` over its FlowNet (``FlowNet.py:110-117``)."""


def init_fcc_as_reference_(module: nn.Module) -> None:
    """Every FCC weight under ``module`` drawn as ``FCC.py:53-76`` draws it: position
    embeddings and circular-conv biases standard normal, kernels uniform in
    +-1/sqrt(32) (a 32-long depthwise conv's default bound, though 16 taps are used)."""
    bound = 1 / math.sqrt(REFERENCE_FCC_KERNEL)
    for part in module.modules():
        if isinstance(part, AxisPositionEmbedding):
            nn.init.normal_(part.embedding)
        elif isinstance(part, GlobalCircularConv):
            nn.init.uniform_(part.weight, -bound, bound)
            nn.init.normal_(part.bias)


def init_flow_net_as_reference_(module: nn.Module) -> None:
    """Every (transposed) conv under ``module`` He-normal for a leaky ReLU of slope 0.1 (fan
    in), biases 0, batch norms the identity: ``FlowNet.py:110-117``."""
    for part in module.modules():
        if isinstance(part, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(part.weight, a=REFERENCE_FLOW_LEAK)
            if part.bias is not None:
                nn.init.zeros_(part.bias)
        elif isinstance(part, nn.BatchNorm2d):
            nn.init.ones_(part.weight)
            nn.init.zeros_(part.bias)


def check_init(init: str) -> None:
    """Raise naming :data:`INITS` unless ``init`` is one of them."""
    if init not in INITS:
        raise ValueError(f"MOL init must be one of {INITS}, got {init!r}")
