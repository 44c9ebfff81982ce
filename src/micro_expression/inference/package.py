"""The registered model: an MLflow pyfunc that takes recordings, not tensors.

``predict`` takes a table with, per record, either a ``path`` (a frame folder or a video file
the server can read) or ``frames`` (base64-encoded image files, for remote clients), runs the
same face detection, alignment, sampling and normalisation as training (the settings travel in
the checkpoint) and returns the class probabilities and the label per record. A record that
cannot be scored gets ``status = "rejected"`` and its ``reason``; the others are still scored.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from mlflow.models import ModelSignature
from mlflow.types import DataType
from mlflow.types.schema import Array, ColSpec, Schema

from micro_expression.evaluation.predictions import probability_column
from micro_expression.inference.classifier import ClipClassifier
from micro_expression.preprocessing.clip import ClipRejected
from micro_expression.readers.recordings import Problem, discover

CHECKPOINT_ARTIFACT = "checkpoint"
SCORED, REJECTED = "scored", "rejected"
PIP_REQUIREMENTS = (
    "torch", "numpy", "pandas", "pyarrow", "opencv-contrib-python-headless", "dlib-bin",
    "face-recognition-models", "pillow", "scikit-image",
)


def signature(classes: list[str]) -> ModelSignature:
    """Named columns in and out: ``path`` or ``frames`` in; probabilities, label, status out."""
    inputs = Schema([
        ColSpec(DataType.string, "path", required=False),
        ColSpec(Array(DataType.string), "frames", required=False),
    ])
    outputs = Schema([
        *(ColSpec(DataType.double, probability_column(c)) for c in classes),
        ColSpec(DataType.string, "label", required=False),
        ColSpec(DataType.string, "status"),
        ColSpec(DataType.string, "reason", required=False),
    ])
    return ModelSignature(inputs=inputs, outputs=outputs)


class MicroExpressionModel(mlflow.pyfunc.PythonModel):
    """Pyfunc wrapper of :class:`ClipClassifier`; ``classifier`` is set by ``load_context``."""

    classifier: ClipClassifier

    def load_context(self, context: Any) -> None:
        checkpoint = torch.load(
            context.artifacts[CHECKPOINT_ARTIFACT], map_location="cpu", weights_only=True
        )
        self.classifier = ClipClassifier.from_checkpoint(checkpoint)

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        rows = [self._score(record) for record in _records(model_input)]
        columns = [probability_column(c) for c in self.classifier.classes]
        return pd.DataFrame(rows, columns=[*columns, "label", "status", "reason"])

    def _score(self, record: dict[str, Any]) -> dict[str, Any]:
        try:
            with tempfile.TemporaryDirectory() as scratch:
                frame_paths = _frame_paths(record, Path(scratch))
                probabilities = self.classifier.classify_frames(frame_paths)
        except (ClipRejected, ValueError, FileNotFoundError) as error:
            return {"status": REJECTED, "reason": str(error)}
        classes = self.classifier.classes
        return {
            **{probability_column(c): float(p) for c, p in zip(classes, probabilities)},
            "label": classes[int(np.argmax(probabilities))],
            "status": SCORED,
            "reason": None,
        }


def _records(model_input: Any) -> list[dict[str, Any]]:
    if isinstance(model_input, dict):
        model_input = pd.DataFrame([model_input])
    if not isinstance(model_input, pd.DataFrame):
        raise TypeError(f"expected a table of records with 'path' or 'frames', got "
                        f"{type(model_input).__name__}")
    return model_input.to_dict("records")


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) > 0
    return not (isinstance(value, float) and np.isnan(value)) and str(value) != ""


def _frame_paths(record: dict[str, Any], scratch: Path) -> list[str]:
    """The record's frames as files: its path's single recording, or its decoded frames."""
    has_path, has_frames = _present(record.get("path")), _present(record.get("frames"))
    if has_path == has_frames:
        raise ValueError("give each record either 'path' or 'frames' (base64 images), not "
                         + ("both" if has_path else "neither"))
    if has_frames:
        paths = []
        for n, encoded in enumerate(record["frames"]):
            try:
                data = base64.b64decode(str(encoded), validate=True)
            except (binascii.Error, ValueError) as error:
                raise ValueError(f"frame {n} is not valid base64: {error}") from None
            path = scratch / f"frame_{n:06d}.img"
            path.write_bytes(data)
            paths.append(str(path))
        return paths
    found = discover(record["path"], scratch / "video_frames")
    if found.problems:
        problem: Problem = found.problems[0]
        raise ValueError(problem.reason)
    if len(found.recordings) != 1:
        raise ValueError(
            f"{record['path']} holds {len(found.recordings)} recordings: score a dataset root "
            "with `kedro run --pipelines inference`"
        )
    return list(found.recordings[0].frame_paths)


def log_packaged_model(
    checkpoint: dict[str, Any],
    registered_name: str,
    input_example: pd.DataFrame | None = None,
    tags: dict[str, str] | None = None,
) -> mlflow.models.model.ModelInfo:
    """Log ``checkpoint`` as a :class:`MicroExpressionModel` to the active run; register it.

    The model is logged at its training step: MLflow links the run's metrics of that step to
    the model, so the run's data counts (step 0) are not mistaken for the model's scores."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "checkpoint.pt"
        torch.save(checkpoint, path)
        return mlflow.pyfunc.log_model(
            name=registered_name,
            python_model=str(Path(__file__).with_name("served_model.py")),
            artifacts={CHECKPOINT_ARTIFACT: str(path)},
            signature=signature(list(checkpoint["classes"])),
            input_example=input_example,
            registered_model_name=registered_name,
            pip_requirements=[_pinned(name) for name in PIP_REQUIREMENTS],
            metadata={
                "classes": list(checkpoint["classes"]),
                "model": checkpoint["model"],
                "preprocessing": checkpoint["preprocessing"],
                "clip_frames": checkpoint["clip_frames"],
            },
            tags=tags,
            step=max(1, int(checkpoint.get("best_step") or 1)),
        )


def _pinned(distribution: str) -> str:
    from importlib import metadata

    try:
        version = metadata.version(distribution).split("+")[0]
    except metadata.PackageNotFoundError:
        return distribution
    return f"{distribution}=={version}"
