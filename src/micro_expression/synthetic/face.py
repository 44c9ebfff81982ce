"""The base face (``skimage.data.astronaut()``, public domain) and per-subject identities.

A subject is the base face under a similarity transform (scale, small rotation, optional
mirroring), a smooth sinusoidal warp, a tone/contrast/gamma change and a static skin texture.
The 68 landmarks dlib finds once on the base photo are carried through the same geometry,
so every subject's neutral landmarks are known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from skimage import data

from micro_expression.face.models import frontal_face_detector, landmark_predictor

# dlib 68-point index of each point's mirror image (jaw, brows, nose, eyes, outer and inner lips).
MIRROR_PERMUTATION = np.array(
    [*range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, *range(35, 30, -1),
     45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
     54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,
     64, 63, 62, 61, 60, 67, 66, 65]
)  # fmt: skip

WARP_COMPONENTS = 3
SKIN_TEXTURE_SIGMA_PX = 1.0


@dataclass(frozen=True)
class BaseFace:
    """The base photo (BGR uint8) and its dlib landmarks ``(68, 2)`` as (x, y) pixels."""

    image: np.ndarray
    landmarks: np.ndarray

    @property
    def jaw_width(self) -> float:
        """Distance between the jaw's end points (landmarks 0 and 16)."""
        return float(np.linalg.norm(self.landmarks[16] - self.landmarks[0]))


@lru_cache(maxsize=1)
def base_face() -> BaseFace:
    """The astronaut photo and its 68 landmarks, detected once per process with dlib."""
    rgb = np.ascontiguousarray(data.astronaut())
    faces, scores, _ = frontal_face_detector().run(rgb, 0, 0)
    if not faces:
        raise RuntimeError("dlib found no face in skimage.data.astronaut(); check the dlib install")
    face = faces[int(np.argmax(scores))]
    shape = landmark_predictor()(rgb, face)
    landmarks = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    return BaseFace(image=np.ascontiguousarray(rgb[..., ::-1]), landmarks=landmarks)


@dataclass(frozen=True)
class IdentitySpec:
    """How one subject differs from the base face (all sampled from the subject's seed)."""

    face_width_px: float
    rotation_deg: float
    mirrored: bool
    centre_xy: tuple[float, float]
    # Sinusoidal warp components: (amplitude x, amplitude y, wave-vector x, wave-vector y, phase).
    warp: tuple[tuple[float, float, float, float, float], ...]
    brightness: float
    warmth: float
    contrast: float
    gamma: float
    texture_strength: float
    texture_seed: int


def sample_identity(
    rng: np.random.Generator, face_width_range: tuple[float, float], image_size: tuple[int, int]
) -> IdentitySpec:
    """Draw one subject's identity; geometry is relative to the face width so it scales."""
    height, width = image_size
    face_width = float(rng.uniform(*face_width_range))
    warp = []
    for _ in range(WARP_COMPONENTS):
        amplitude = rng.uniform(0.008, 0.022, size=2) * face_width * rng.choice([-1, 1], size=2)
        wavelength = rng.uniform(0.9, 2.0) * face_width
        angle = rng.uniform(0, np.pi)
        wave = 2 * np.pi / wavelength * np.array([np.cos(angle), np.sin(angle)])
        warp.append((*amplitude.tolist(), *wave.tolist(), float(rng.uniform(0, 2 * np.pi))))
    # Landmark centroid a little below the frame centre leaves room for the forehead.
    centre = (
        width / 2 + rng.uniform(-0.03, 0.03) * width,
        height / 2 + (0.06 + rng.uniform(-0.02, 0.02)) * height,
    )
    return IdentitySpec(
        face_width_px=face_width,
        rotation_deg=float(rng.uniform(-6, 6)),
        mirrored=bool(rng.random() < 0.5),
        centre_xy=(float(centre[0]), float(centre[1])),
        warp=tuple(warp),
        brightness=float(rng.uniform(0.78, 1.12)),
        warmth=float(rng.uniform(-0.08, 0.08)),
        contrast=float(rng.uniform(0.8, 1.2)),
        gamma=float(rng.uniform(0.85, 1.2)),
        texture_strength=float(rng.uniform(0.02, 0.04)),
        texture_seed=int(rng.integers(2**31 - 1)),
    )


@dataclass(frozen=True)
class IdentityFace:
    """A subject's neutral face rendered at frame size: BGR float32 image and its landmarks."""

    image: np.ndarray
    landmarks: np.ndarray


class IdentityGeometry:
    """Output pixel q shows base pixel ``A^-1(q + g(q))``: similarity ``A``, smooth warp ``g``."""

    def __init__(self, spec: IdentitySpec, base: BaseFace):
        theta = np.deg2rad(spec.rotation_deg)
        scale = spec.face_width_px / base.jaw_width
        mirror = np.diag([-1.0, 1.0]) if spec.mirrored else np.eye(2)
        rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        self.linear = scale * rotation @ mirror
        self.base_centre = base.landmarks.mean(axis=0)
        self.centre = np.array(spec.centre_xy)
        self.warp = np.array(spec.warp, dtype=np.float64).reshape(-1, 5)

    def warp_offset(self, points: np.ndarray) -> np.ndarray:
        """``g(q)`` at ``(..., 2)`` points."""
        phase = points @ self.warp[:, 2:4].T + self.warp[:, 4]
        return np.sin(phase) @ self.warp[:, 0:2]

    def to_base(self, points: np.ndarray) -> np.ndarray:
        """Base-photo position shown at output ``points``."""
        moved = points + self.warp_offset(points) - self.centre
        return moved @ np.linalg.inv(self.linear).T + self.base_centre

    def from_base(self, points: np.ndarray, iterations: int = 60) -> np.ndarray:
        """Output position of base-photo ``points``: solves ``q + g(q) = A(p)`` by fixed point."""
        target = (points - self.base_centre) @ self.linear.T + self.centre
        solution = target.copy()
        for _ in range(iterations):
            solution = target - self.warp_offset(solution)
        return solution


def render_identity(spec: IdentitySpec, image_size: tuple[int, int]) -> IdentityFace:
    """Render a subject's neutral face and carry the base landmarks through its geometry."""
    base = base_face()
    geometry = IdentityGeometry(spec, base)
    height, width = image_size
    grid = np.stack(np.meshgrid(np.arange(width), np.arange(height)), axis=-1).astype(np.float64)
    source = geometry.to_base(grid).astype(np.float32)
    image = cv2.remap(
        base.image.astype(np.float32), source[..., 0], source[..., 1],
        interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101,
    )  # fmt: skip
    image = 255.0 * (np.clip(image, 0, 255) / 255.0) ** spec.gamma
    image = image.mean() + spec.contrast * (image - image.mean())
    image *= spec.brightness * np.array([1 - spec.warmth, 1.0, 1 + spec.warmth])
    texture = np.random.default_rng(spec.texture_seed).standard_normal((height, width))
    texture = cv2.GaussianBlur(texture, (0, 0), SKIN_TEXTURE_SIGMA_PX)
    image *= 1 + spec.texture_strength * (texture / texture.std())[..., None]
    landmarks = geometry.from_base(base.landmarks)
    if spec.mirrored:
        landmarks = landmarks[MIRROR_PERMUTATION]
    return IdentityFace(image=np.clip(image, 0, 255).astype(np.float32), landmarks=landmarks)
