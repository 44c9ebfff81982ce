"""What one request to the registered model may make the server do: which paths it may read
(none by default), how many frames and declared pixels it may send, and how long it may run.

The limits are the ``serving`` block of the model's MLflow ``model_config``: logged with every
version at these defaults (MLflow also records them as the run's ``serving/...`` parameters),
overridden where it is served, by ``MLFLOW_PYFUNC_INFERENCE_CONFIG`` (a JSON object, for
``mlflow models serve``) or by ``mlflow.pyfunc.load_model(uri, model_config={...})``, e.g.
``{"serving": {"path_roots": ["/data/recordings"]}}``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

CONFIG_BLOCK = "serving"
"""The model config's key of the limits (its parameters in the run: ``serving/<limit>``)."""
SERVER_TIMEOUT_VARIABLE = "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT"
"""``mlflow models serve`` answers 504 after this many seconds (60 by default)."""
SERVER_TIMEOUT_MARGIN_S = 5.0
"""Work stops this long before the server gives up, so nothing runs on for a gone client."""


class RecordRefused(ValueError):
    """A record the limits refuse; its message is safe to return to the client."""


@dataclass(frozen=True)
class ServingLimits:
    """Bounds on one ``predict`` call.

    ``path_roots``: folders under which records may name a ``path`` (resolved, links
    followed); empty: records must send their ``frames``. ``max_frame_pixels``: width x height
    a frame's header may declare. ``max_request_frames`` and ``max_request_pixels``: totals
    over the request's records. ``max_request_seconds``: records not started by then are
    refused; null: the server's timeout less a margin when served, unbounded otherwise.
    """

    path_roots: tuple[str, ...] = ()
    max_frame_pixels: int = 4096 * 4096
    max_request_frames: int = 2000
    max_request_pixels: int = 600_000_000
    max_request_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_frame_pixels", "max_request_frames", "max_request_pixels"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"serving limit {name} must be >= 1, got {getattr(self, name)}")
        if self.max_request_seconds is not None and self.max_request_seconds <= 0:
            raise ValueError(f"serving limit max_request_seconds must be > 0 or null, "
                             f"got {self.max_request_seconds}")

    @classmethod
    def from_config(cls, model_config: Mapping[str, Any] | None) -> ServingLimits:
        """From a model config's ``serving`` block; unknown keys are refused, naming them."""
        model_config = dict(model_config or {})
        if unknown := sorted(set(model_config) - {CONFIG_BLOCK}):
            raise ValueError(f"unknown model config keys {unknown}: the limits go in "
                             f"{{{CONFIG_BLOCK!r}: {{...}}}}")
        config = dict(model_config.get(CONFIG_BLOCK) or {})
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(config) - known):
            raise ValueError(f"unknown serving limits {unknown}; known: {sorted(known)}")
        if "path_roots" in config:
            roots = config["path_roots"]
            config["path_roots"] = tuple([roots] if isinstance(roots, str) else roots or ())
        return cls(**config)

    def as_config(self) -> dict[str, Any]:
        """The limits as a JSON-ready model config."""
        return {CONFIG_BLOCK: {**asdict(self), "path_roots": list(self.path_roots)}}

    def seconds(self, environ: Mapping[str, str] = os.environ) -> float | None:
        """Seconds a request may run: ``max_request_seconds``, and never past the server's
        timeout less a margin when ``mlflow models serve`` set one."""
        limits = [self.max_request_seconds] if self.max_request_seconds is not None else []
        if timeout := environ.get(SERVER_TIMEOUT_VARIABLE):
            limits.append(max(1.0, float(timeout) - SERVER_TIMEOUT_MARGIN_S))
        return min(limits) if limits else None

    def resolved_roots(self) -> tuple[Path, ...]:
        """The allowed roots with links resolved, so a link cannot lead out of them."""
        return tuple(Path(os.path.realpath(root)) for root in self.path_roots)


class RequestBudget:
    """What is left of one request's frames, pixels and time as its records are read."""

    def __init__(self, limits: ServingLimits, clock: Callable[[], float] = time.monotonic,
                 environ: Mapping[str, str] = os.environ) -> None:
        self.limits = limits
        self.frames = 0
        self.pixels = 0
        seconds = limits.seconds(environ)
        self._clock = clock
        self._deadline = None if seconds is None else clock() + seconds
        self._seconds = seconds

    def check_time(self) -> None:
        """Refuse the next record once the request's time is spent."""
        if self._deadline is not None and self._clock() > self._deadline:
            raise RecordRefused(f"not scored: the request ran past its {self._seconds:.0f} s; "
                                "send fewer records per request")

    def check_count(self, frames: int) -> None:
        """Refuse a record of ``frames`` frames that would take the request past its count
        (checked before a record's frames are decoded)."""
        if self.frames + frames > self.limits.max_request_frames:
            raise RecordRefused(
                f"not scored: {frames} frames would take the request past its "
                f"{self.limits.max_request_frames} frames; send fewer per request")

    def admit(self, frame_pixels: list[int]) -> None:
        """Count a record's frames (their declared pixels) against the request's totals;
        refuse the record, counting nothing, when a frame or a total is over its limit."""
        limits = self.limits
        for n, pixels in enumerate(frame_pixels):
            if pixels > limits.max_frame_pixels:
                raise RecordRefused(
                    f"frame {n}: its header declares {pixels / 1e6:,.1f} Mpx, more than the "
                    f"{limits.max_frame_pixels / 1e6:,.1f} Mpx this server decodes per frame")
        self.check_count(len(frame_pixels))
        if self.pixels + sum(frame_pixels) > limits.max_request_pixels:
            raise RecordRefused(
                f"not scored: its frames would take the request past its "
                f"{limits.max_request_pixels / 1e6:,.0f} Mpx; send fewer or smaller frames")
        self.frames += len(frame_pixels)
        self.pixels += sum(frame_pixels)
