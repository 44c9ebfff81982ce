"""The registered model: an MLflow pyfunc that takes recordings, not tensors.

``predict`` takes a table with, per record, either ``frames`` (base64-encoded image files) or
a ``path`` (a frame folder or a video file, read only under the folders whoever serves the
model allows: see :mod:`micro_expression.inference.limits`), runs the same face detection,
alignment, sampling and normalisation as training (the settings travel in the checkpoint) and
returns the class probabilities and the label per record. A record that cannot be scored gets
``status = "rejected"`` and its ``reason``, which names no server path; the others are still
scored.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types import DataType
from mlflow.types.schema import Array, ColSpec, Schema

from micro_expression.evaluation.predictions import probability_column
from micro_expression.inference.classifier import ClipClassifier
from micro_expression.inference.limits import RecordRefused, RequestBudget, ServingLimits
from micro_expression.preprocessing.clip import ClipRejected
from micro_expression.readers.images import declared_pixels
from micro_expression.readers.recordings import Problem, decode_video, discover

logger = logging.getLogger(__name__)

CHECKPOINT_ARTIFACT = "checkpoint"
SERVING_ENVIRONMENT = "_MLFLOW_IS_IN_SERVING_ENVIRONMENT"
"""Set to "true" by ``mlflow models serve``, where the table goes out as JSON."""
SCORED, REJECTED = "scored", "rejected"
PIP_REQUIREMENTS = (
    "torch", "numpy", "pandas", "pyarrow", "opencv-contrib-python-headless", "dlib-bin",
    "face-recognition-models", "pillow", "kedro", "tqdm",
)
"""What the packaged code imports (pinned to this environment's versions when logged); the
code itself travels with the model (``code_paths``), so it loads where the project is not
installed."""
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""``micro_expression``: copied into every logged model."""


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
    """Pyfunc wrapper of :class:`ClipClassifier`; ``classifier`` and the request ``limits``
    are set by ``load_context``."""

    classifier: ClipClassifier
    limits: ServingLimits

    def load_context(self, context: Any) -> None:
        checkpoint = torch.load(
            context.artifacts[CHECKPOINT_ARTIFACT], map_location="cpu", weights_only=True
        )
        self.classifier = ClipClassifier.from_checkpoint(checkpoint)
        self.limits = ServingLimits.from_config(getattr(context, "model_config", None))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        budget = RequestBudget(self.limits)
        rows = [self._score(record, budget) for record in _records(model_input)]
        columns = [probability_column(c) for c in self.classifier.classes]
        table = pd.DataFrame(rows, columns=[*columns, "label", "status", "reason"])
        if os.environ.get(SERVING_ENVIRONMENT, "").lower() == "true":
            # JSON has no NaN: what a record lacks (a rejected record's probabilities and
            # label, a scored one's reason) goes out as null.
            table = table.astype(object).where(table.notna(), None)
        return table

    def _score(self, record: dict[str, Any], budget: RequestBudget) -> dict[str, Any]:
        """One record's row; every fault of the record is its own rejection, whose reason
        names no server path (scratch and resolved paths read as the client sent them)."""
        with tempfile.TemporaryDirectory() as scratch:
            aliases = {os.path.join(scratch, ""): ""}
            try:
                budget.check_time()
                frame_paths = self._frame_paths(record, Path(scratch), budget, aliases)
                probabilities = self.classifier.classify_frames(frame_paths)
            except (RecordRefused, ClipRejected, ValueError, OSError) as error:
                return _rejected(_public(str(error), aliases))
            except Exception:
                logger.exception("a record could not be scored")
                return _rejected("internal error while scoring this record (the server's log "
                                 "has the details)")
        classes = self.classifier.classes
        return {
            **{probability_column(c): float(p) for c, p in zip(classes, probabilities)},
            "label": classes[int(np.argmax(probabilities))],
            "status": SCORED,
            "reason": None,
        }

    def _frame_paths(self, record: dict[str, Any], scratch: Path, budget: RequestBudget,
                     aliases: dict[str, str]) -> list[str]:
        """The record's frames as files, counted against the request's budget: its decoded
        ``frames``, or the single recording at its ``path`` under an allowed root."""
        has_path, has_frames = _present(record.get("path")), _present(record.get("frames"))
        if has_path == has_frames:
            raise RecordRefused("give each record either 'path' or 'frames' (base64 images), "
                                "not " + ("both" if has_path else "neither"))
        if has_frames:
            return _decoded_frames(record["frames"], scratch, budget)
        return self._path_frames(str(record["path"]), scratch, budget, aliases)

    def _path_frames(self, given: str, scratch: Path, budget: RequestBudget,
                     aliases: dict[str, str]) -> list[str]:
        roots = self.limits.resolved_roots()
        if not roots:
            raise RecordRefused(
                "this server reads no paths: send the recording's frames as base64 images in "
                "'frames' (whoever serves the model may allow folders: model config "
                "serving.path_roots)")
        resolved = Path(os.path.realpath(os.path.expanduser(given)))
        if not _under(resolved, roots):
            # The same answer whether or not the path exists: no probing the server's files.
            raise RecordRefused("path is not under a folder this server reads")
        aliases[str(resolved)] = given
        found = discover(resolved, called="path")
        if found.problems:
            problem: Problem = found.problems[0]
            raise ValueError(problem.reason)
        if len(found.recordings) != 1:
            raise RecordRefused(
                f"{given} holds {len(found.recordings)} recordings: score a dataset root "
                "with `kedro run --pipelines inference`")
        (recording,) = found.recordings
        frames = list(recording.frame_paths)
        if recording.is_video:
            frames = decode_video(resolved, scratch / "video_frames",
                                  max_frames=self.limits.max_request_frames)
        inside = (*roots, Path(os.path.realpath(scratch)))
        if not all(_under(Path(os.path.realpath(frame)), inside) for frame in frames):
            raise RecordRefused(f"a frame of {given} links outside the folders this server reads")
        budget.admit([declared_pixels(frame) or 0 for frame in frames])
        return frames


def _decoded_frames(frames: Any, scratch: Path, budget: RequestBudget) -> list[str]:
    """Base64 frames written to ``scratch``, once their count and declared sizes fit."""
    frames = list(frames)
    budget.check_count(len(frames))
    images, sizes = [], []
    for n, encoded in enumerate(frames):
        try:
            data = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError) as error:
            raise RecordRefused(f"frame {n} is not valid base64: {error}") from None
        pixels = declared_pixels(data)
        if pixels is None:
            raise RecordRefused(f"frame {n} is not an image file the server can identify")
        images.append(data)
        sizes.append(pixels)
    budget.admit(sizes)
    paths = []
    for n, data in enumerate(images):
        path = scratch / f"frame_{n:06d}.img"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def _records(model_input: Any) -> list[dict[str, Any]]:
    if isinstance(model_input, dict):
        model_input = pd.DataFrame([model_input])
    if not isinstance(model_input, pd.DataFrame):
        raise MlflowException.invalid_parameter_value(
            f"expected a table of records with 'path' or 'frames', got "
            f"{type(model_input).__name__}")
    return model_input.to_dict("records")


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) > 0
    return not (isinstance(value, float) and np.isnan(value)) and str(value) != ""


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _public(reason: str, aliases: dict[str, str]) -> str:
    """``reason`` with server paths replaced by what the client sent (longest first)."""
    for server, client in sorted(aliases.items(), key=lambda item: -len(item[0])):
        reason = reason.replace(server, client)
    return reason


def _rejected(reason: str) -> dict[str, Any]:
    return {"status": REJECTED, "reason": reason}


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
            model_config=ServingLimits().as_config(),
            registered_model_name=registered_name,
            pip_requirements=[_pinned(name) for name in PIP_REQUIREMENTS],
            code_paths=[str(PACKAGE_ROOT)],
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
