"""Render one planned clip: its motion model, JPEG frames and exact ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from micro_expression.flow.deformation import ClipMotion
from micro_expression.readers.ground_truth import ClipGroundTruth
from micro_expression.synthetic.action_units import action_unit_bumps
from micro_expression.synthetic.face import IdentityFace
from micro_expression.synthetic.motion import envelope, sample_head_jitter
from micro_expression.synthetic.params import SyntheticParams
from micro_expression.synthetic.render import (
    FrameRenderer,
    encode_jpeg,
    render_frames,
    sample_illumination,
)
from micro_expression.synthetic.specs import ClipSpec


@dataclass(frozen=True)
class RenderedClip:
    """A clip's encoded frames (in frame order) and its ground truth."""

    frames: list[bytes]
    ground_truth: ClipGroundTruth


def clip_motion(
    clip: ClipSpec, face: IdentityFace, params: SyntheticParams, rng: np.random.Generator
) -> ClipMotion:
    """The clip's motion model on a subject's face (draws its random parts from ``rng``)."""
    frame_count = len(clip.frame_numbers)
    bumps = action_unit_bumps(
        face.landmarks,
        dict(clip.action_units + clip.distractor),
        clip.amplitude_px,
        clip.side_gain,
        rng,
    )
    face_width = float(np.linalg.norm(face.landmarks[16] - face.landmarks[0]))
    return ClipMotion(
        bumps=bumps,
        envelope=envelope(frame_count, clip.apex - clip.onset),
        jitter=sample_head_jitter(rng, frame_count, params.nuisance.head_jitter_px, face_width),
        centre=face.landmarks[30].copy(),  # nose tip: the head turns about the face centre
    )


def render_clip(clip: ClipSpec, face: IdentityFace, params: SyntheticParams) -> RenderedClip:
    """Render one clip of the plan from its own seed: JPEG frames and ground truth."""
    rng = np.random.default_rng(clip.seed)
    frame_count = len(clip.frame_numbers)
    motion = clip_motion(clip, face, params, rng)
    illumination = sample_illumination(rng, frame_count, params.nuisance.illumination_flicker)
    noise_seeds = rng.integers(2**31 - 1, size=frame_count)
    renderer = FrameRenderer(face.image, motion)
    frames = render_frames(renderer, illumination, params.nuisance.sensor_noise, noise_seeds)
    encoded = [encode_jpeg(frame, params.nuisance.jpeg_quality) for frame in frames]
    ground_truth = ClipGroundTruth.from_motion(
        onset_landmarks=face.landmarks,
        motion=motion,
        subject=clip.subject_name,
        filename=clip.filename,
        emotion=clip.emotion,
        action_units=clip.action_unit_code,
        frame_numbers=np.array(clip.frame_numbers),
        apex_index=clip.apex - clip.onset,
        image_size=params.image_size,
    )
    return RenderedClip(frames=encoded, ground_truth=ground_truth)
