"""Names of MLflow runs that say what each run did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from micro_expression.io.packaged_model import DEFAULT_MODEL_URI

DATA_PIPELINES = ("synthetic", "ingestion", "preprocessing", "splitting", "training",
                  "evaluation")


def run_name(
    pipeline_names: list[str] | None,
    started: datetime,
    run_id: str,
    dataset: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    runtime_params: dict[str, Any] | None = None,
) -> str:
    """``<pipelines> · <what it ran on> · <model> · <start time> · <run id[:6]>``, e.g.
    ``default · synthetic · mol/small · 2026-11-22 05:31 UTC · 3fa9c2`` or
    ``inference · long.mp4 · models:/micro-expression-mol@scored · ...``."""
    pipelines = "+".join(pipeline_names or ["__default__"]).replace("__default__", "default")
    parts = [pipelines]
    inference = (runtime_params or {}).get("inference") or {}
    if pipelines == "inference":
        source = inference.get("source")
        parts.append(Path(str(source)).name if source else "no source")
        parts.append(str(inference.get("model_uri") or DEFAULT_MODEL_URI))
    else:
        if dataset:
            parts.append(str(dataset.get("name", "dataset")))
        if training and any(p in pipelines for p in ("default", "training", "mer")):
            model = training.get("model", "mol")
            parts.append(f"{model}/{training.get('preset')}" if model == "mol" else model)
    parts += [started.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"), run_id[:6]]
    return " · ".join(parts)
