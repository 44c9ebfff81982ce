"""Where training runs: CUDA with bf16 autocast when present, else the CPU."""

from __future__ import annotations

import contextlib
import os

import torch


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks ``cuda`` when available, else ``cpu``; ``cuda`` without a GPU is an error."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("training.device is 'cuda' but torch sees no CUDA device")
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
