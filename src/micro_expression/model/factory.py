"""Build a recognition model by name: MOL or the flow baseline, and what each one reads."""

from __future__ import annotations

from typing import Any

from torch import nn

from micro_expression.model.flow_baseline import FlowBaseline
from micro_expression.model.mol import build_mol

ARCHITECTURES = ("mol", "flow_baseline")
INPUT_KEYS = {"mol": "frames", "flow_baseline": "apex_flow"}
"""The sample field each architecture takes: 8 grey-level frames, or the onset-to-apex flow."""


def build_model(architecture: str = "mol", **kwargs: Any) -> nn.Module:
    """``build_mol(**kwargs)`` or ``FlowBaseline(**kwargs)``; raises naming the valid names."""
    if architecture == "mol":
        return build_mol(**kwargs)
    if architecture == "flow_baseline":
        return FlowBaseline(**kwargs)
    raise ValueError(f"unknown model {architecture!r}; valid models: {list(ARCHITECTURES)}")


def input_key(architecture: str) -> str:
    """The sample field (``frames`` or ``apex_flow``) that ``architecture`` takes as input."""
    try:
        return INPUT_KEYS[architecture]
    except KeyError:
        raise ValueError(
            f"unknown model {architecture!r}; valid models: {list(ARCHITECTURES)}"
        ) from None
