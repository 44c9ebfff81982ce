"""Validated preprocessing settings, read from ``params:preprocessing``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from micro_expression.face.detection import N_LANDMARKS
from micro_expression.face.stabilisation import MOTIONS, STABILISATIONS
from micro_expression.flow.tvl1 import BRIGHTNESS_MATCHING
from micro_expression.parameters import block_values

ALIGNMENTS = ("per_clip", "per_frame")
OUTPUTS = ("all", "frames", "apex_flow")
"""What a clip's preprocessing computes: ``all`` for training (the consecutive TV-L1 targets
included); ``frames`` (the crops MOL reads) or ``apex_flow`` (the one onset-to-apex flow the
flow baseline reads) for scoring with a model."""
DETECTION = {"detection": {"upsample": "upsample", "retry_upsample": "retry_upsample"}}
"""The ``detection`` block's keys and the fields they set."""
SAMPLINGS = ("even", "strided")
CROP_GEOMETRIES = ("standard", "reference")
"""How a face fills its crop: ``standard``, the 68 points' box with ``face_margin`` and the
edge pixels replicated outside the frame; ``reference``, the public MOL code's box of five
points enlarged 2.5 times, grey (128) outside the frame."""
REFERENCE_BORDER = 128
APEX_SOURCES = ("sheet", "estimated")
"""Where the onset-to-apex flow's apex comes from: the coding sheet when it names one (else
estimated), or always estimated from the face's motion (recordings nobody coded)."""


@dataclass(frozen=True)
class PreprocessingConfig:
    """Everything that shapes the per-clip output, plus how the run is executed."""

    alignment: str = "per_clip"
    stabilisation: str = "none"
    stabilisation_motion: str = "euclidean"
    max_landmarks_outside: int = 5
    sampling: str = "even"
    frames_per_sample: int = 8
    stride: int | None = None
    crop_size: int = 144
    face_margin: float = 0.1
    crop_geometry: str = "standard"
    upsample: int = 0
    retry_upsample: int | None = 1
    tvl1: Mapping[str, Any] = field(default_factory=dict)
    flow_brightness: str = "none"
    apex: str = "sheet"
    workers: int | None = None
    qa_clips: int = 4
    outputs: str = "all"

    def __post_init__(self) -> None:
        if self.outputs not in OUTPUTS:
            raise ValueError(f"outputs must be one of {OUTPUTS}, got {self.outputs!r}")
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"alignment must be one of {ALIGNMENTS}, got {self.alignment!r}")
        if self.stabilisation not in STABILISATIONS:
            raise ValueError(
                f"stabilisation must be one of {STABILISATIONS}, got {self.stabilisation!r}"
            )
        if self.stabilisation_motion not in MOTIONS:
            raise ValueError(f"stabilisation_motion must be one of {tuple(MOTIONS)}, "
                             f"got {self.stabilisation_motion!r}")
        if self.stabilisation != "none" and self.alignment != "per_clip":
            # per_frame re-aligns each frame from its own landmarks: nothing left to register.
            raise ValueError(f"stabilisation {self.stabilisation!r} works with per_clip "
                             f"alignment; {self.alignment} needs stabilisation: none")
        if not 0 <= self.max_landmarks_outside < N_LANDMARKS:
            raise ValueError(f"max_landmarks_outside must be in 0..{N_LANDMARKS - 1}, "
                             f"got {self.max_landmarks_outside}")
        if self.apex not in APEX_SOURCES:
            raise ValueError(f"apex must be one of {APEX_SOURCES}, got {self.apex!r}")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {self.sampling!r}")
        if self.flow_brightness not in BRIGHTNESS_MATCHING:
            raise ValueError(f"flow_brightness must be one of {BRIGHTNESS_MATCHING}, "
                             f"got {self.flow_brightness!r}")
        if self.frames_per_sample < 2:
            raise ValueError(f"frames_per_sample must be >= 2, got {self.frames_per_sample}")
        if self.crop_geometry not in CROP_GEOMETRIES:
            raise ValueError(f"crop_geometry must be one of {CROP_GEOMETRIES}, "
                             f"got {self.crop_geometry!r}")
        if self.face_margin < 0:
            raise ValueError(f"face_margin must be >= 0, got {self.face_margin}")
        if self.stride is not None and self.stride < 1:
            raise ValueError(f"stride must be >= 1 or null, got {self.stride}")
        if self.qa_clips < 1:
            # kedro-mlflow's artifact dataset cannot save an empty set of figures.
            raise ValueError(f"qa_clips must be >= 1 (QA images per run), got {self.qa_clips}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1 or null (all cores), got {self.workers}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PreprocessingConfig:
        """Build from the ``preprocessing`` parameters (see parameters_preprocessing.yml)."""
        # `outputs` is chosen by whoever scores with a model, never by the training run.
        settable = set(cls.__dataclass_fields__) - {"outputs"}
        values = block_values(params, "preprocessing", settable, DETECTION)
        values["tvl1"] = dict(values.get("tvl1") or {})
        return cls(**values)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], **execution: Any) -> PreprocessingConfig:
        """The config whose :meth:`output_settings` are ``settings`` (as a model carries
        them), with execution settings (``workers``, ``qa_clips``) and the ``outputs`` to
        compute from ``execution``."""
        levels = list(settings["upsample_levels"])
        return cls(
            alignment=settings["alignment"],
            # Models trained before stabilisation and the border tolerance carry neither:
            # they were trained on unstabilised clips with every landmark inside the frame.
            stabilisation=settings.get("stabilisation", "none"),
            stabilisation_motion=settings.get("stabilisation_motion", "euclidean"),
            max_landmarks_outside=int(settings.get("max_landmarks_outside", 0)),
            sampling=settings["sampling"],
            frames_per_sample=int(settings["frames_per_sample"]),
            stride=settings.get("stride"),
            crop_size=int(settings["crop_size"]),
            face_margin=float(settings["face_margin"]),
            crop_geometry=settings.get("crop_geometry", "standard"),  # older models: standard
            upsample=int(levels[0]),
            retry_upsample=int(levels[1]) if len(levels) > 1 else None,
            tvl1=dict(settings["tvl1"]),
            # Models trained before brightness matching existed carry no such setting.
            flow_brightness=settings.get("flow_brightness", "none"),
            apex=settings.get("apex", "sheet"),  # models trained before the choice existed
            **execution,
        )

    @property
    def upsample_levels(self) -> tuple[int, ...]:
        """Detector upsampling levels to try in turn."""
        if self.retry_upsample is None or self.retry_upsample == self.upsample:
            return (self.upsample,)
        return (self.upsample, self.retry_upsample)

    @property
    def crop_border(self) -> int | None:
        """The grey level outside the frame in a crop; None: the edge pixels replicated."""
        return REFERENCE_BORDER if self.crop_geometry == "reference" else None

    @property
    def n_workers(self) -> int:
        """Worker processes: ``workers``, or every core when it is null."""
        return self.workers or os.cpu_count() or 1

    def output_settings(self) -> dict[str, Any]:
        """The settings the stored arrays depend on (they go into the content key)."""
        return {
            "alignment": self.alignment,
            "stabilisation": self.stabilisation,
            "stabilisation_motion": self.stabilisation_motion,
            "max_landmarks_outside": self.max_landmarks_outside,
            "sampling": self.sampling,
            "frames_per_sample": self.frames_per_sample,
            "stride": self.stride if self.sampling == "strided" else None,
            "crop_size": self.crop_size,
            "face_margin": float(self.face_margin),
            "upsample_levels": list(self.upsample_levels),
            "tvl1": dict(sorted(self.tvl1.items())),
            "flow_brightness": self.flow_brightness,
            "apex": self.apex,
            # Only when not the default, so clips keep the keys they always had.
            **({"crop_geometry": self.crop_geometry}
               if self.crop_geometry != "standard" else {}),
            **({"outputs": self.outputs} if self.outputs != "all" else {}),
        }
