"""Where training runs: CUDA with bf16 autocast when present, else the CPU."""

from __future__ import annotations

import contextlib
import os

import torch

DEVICE_TYPES = ("cpu", "cuda", "mps")
"""The devices training and scoring run on (``cuda:1`` names one GPU of several)."""


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks ``cuda`` when available, else ``cpu``; a device torch cannot use here
    (``cuda`` without a GPU, ``mps`` off Apple silicon, a misspelt name) is an error."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(preference)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in DEVICE_TYPES:
        raise ValueError(f"unknown device {preference!r}: use auto, {', '.join(DEVICE_TYPES)} "
                         f"or cuda:<index>")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{preference!r} asked for, but torch sees no CUDA device")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"{preference!r} asked for, but torch sees {torch.cuda.device_count()} "
                         f"CUDA devices")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{preference!r} asked for, but torch sees no MPS device")
    return device


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA; full precision on the CPU, where results must be reproducible."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def set_cpu_threads(threads: int | None) -> int:
    """Use ``threads`` intra-op threads, or every core this process may run on when None."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads or available or 1)
    return torch.get_num_threads()
