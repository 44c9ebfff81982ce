"""Parameters of the generated corpus: parsing, validation and a stable digest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from micro_expression.parameters import block_values
from micro_expression.synthetic.layouts import LAYOUTS

# Bumped whenever the generator's output changes for the same parameters, so that an
# existing corpus written by an older generator is not mistaken for an up-to-date one.
GENERATOR_FORMAT = 2

# The HOG face detector's window is 80 px: smaller faces need upsampling to be found.
MIN_FACE_WIDTH_PX = 80
# Apex displacement per face width that keeps every field contracting and fold-free: the
# narrowest full-weight bump has R >= 0.21 x inter-ocular distance ~ 0.095 face width, and a
# Wendland bump's steepest slope is 2.1 A / R < 0.45.
MAX_AMPLITUDE_PER_FACE_WIDTH = 0.02


@dataclass(frozen=True)
class Nuisance:
    """Per-frame nuisance: jitter in pixels, flicker as relative gain, noise in grey levels."""

    head_jitter_px: float = 0.3
    illumination_flicker: float = 0.02
    sensor_noise: float = 1.5
    jpeg_quality: int = 90


@dataclass(frozen=True)
class SyntheticParams:
    """Validated parameters of :func:`micro_expression.synthetic.generate_corpus`."""

    seed: int = 2024
    layout: tuple[str, ...] = ("casme2",)
    subjects: int = 8
    clips_per_class: int = 3
    classes: int = 3
    frame_count: tuple[int, int] = (24, 40)
    onset_frame: tuple[int, int] = (40, 200)
    amplitude_px: tuple[float, float] = (0.4, 2.5)
    face_width_px: tuple[float, float] = (250.0, 300.0)
    image_size: tuple[int, int] = (480, 640)
    difficulty: float = 0.3
    nuisance: Nuisance = Nuisance()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (tuples as lists)."""
        return json.loads(json.dumps(asdict(self)))

    def digest(self) -> str:
        """sha256 of the canonical parameters and the generator format."""
        canonical = json.dumps(
            {"generator_format": GENERATOR_FORMAT, "params": self.to_dict()}, sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _fail(name: str, problem: str, value: Any) -> ValueError:
    return ValueError(f"synthetic parameter '{name}' {problem}, got {value!r}")


def _integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, "must be an integer", value)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise _fail(name, f"must be {bound}", value)
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(name, "must be a number", value)
    return float(value)


def _pair(name: str, value: Any, convert) -> tuple:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _fail(name, "must be a [low, high] pair", value)
    low, high = (convert(name, v) for v in value)
    if low > high:
        raise _fail(name, "is empty (low > high)", value)
    return low, high


def _int_pair(name: str, value: Any, minimum: int) -> tuple[int, int]:
    return _pair(name, value, lambda n, v: _integer(n, v, minimum))


def _float_pair(name: str, value: Any) -> tuple[float, float]:
    return _pair(name, value, _number)


def parse_layout(value: Any) -> tuple[str, ...]:
    """``synthetic.layout`` as layout names: one name, two or more joined with ``+``
    (``casme2+mmew``: ``kedro run --params`` splits on commas) or a list of names."""
    if isinstance(value, str):
        names = [name.strip() for name in value.split("+")]
    elif isinstance(value, list | tuple) and all(isinstance(name, str) for name in value):
        names = [name.strip() for name in value]
    else:
        raise _fail("layout", "must be a layout name, names joined with '+' or a list of names",
                    value)
    if not names or "" in names:
        raise _fail("layout", "must name one or more layouts, none of them empty", value)
    unknown = [name for name in names if name not in LAYOUTS]
    if unknown:
        raise _fail("layout", f"names unknown layout(s) {', '.join(map(repr, unknown))}; known "
                    f"layouts: {', '.join(LAYOUTS)}", value)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _fail("layout", f"names {', '.join(map(repr, repeated))} more than once", value)
    return tuple(names)


def _check_layout_fits(layout: tuple[str, ...], subjects: int, clips_per_class: int,
                       classes: int) -> None:
    """Every layout gets a subject and can hold each subject's clips and class scheme."""
    joined = "+".join(layout)
    if classes == 5 and layout != ("casme2",):
        raise _fail("classes", f"must be 3 with layout {joined!r} (5 classes are CASME II's: "
                    "layout casme2 alone)", classes)
    if subjects < len(layout):
        raise _fail("subjects", f"must give each of the {len(layout)} layouts of {joined!r} a "
                    "subject (subjects are dealt to them in turn)", subjects)
    per_subject = clips_per_class * classes
    for name in layout:
        limit = LAYOUTS[name].max_clips_per_subject
        if limit is not None and per_subject > limit:
            raise _fail("clips_per_class", f"gives {per_subject} clips per subject "
                        f"({clips_per_class} x {classes} classes), more than layout {name!r} "
                        f"holds per subject ({limit})", clips_per_class)


def _parse_nuisance(raw: Any) -> Nuisance:
    merged = {**asdict(Nuisance()),
              **block_values(raw, "synthetic.nuisance", Nuisance.__dataclass_fields__)}
    for key in ("head_jitter_px", "illumination_flicker", "sensor_noise"):
        if _number(f"nuisance.{key}", merged[key]) < 0:
            raise _fail(f"nuisance.{key}", "must be >= 0", merged[key])
    if merged["illumination_flicker"] >= 0.5:
        raise _fail(
            "nuisance.illumination_flicker", "must be < 0.5 (relative gain)",
            merged["illumination_flicker"],
        )  # fmt: skip
    return Nuisance(
        head_jitter_px=float(merged["head_jitter_px"]),
        illumination_flicker=float(merged["illumination_flicker"]),
        sensor_noise=float(merged["sensor_noise"]),
        jpeg_quality=_integer("nuisance.jpeg_quality", merged["jpeg_quality"], 1, 100),
    )


def parse_params(raw: dict[str, Any]) -> SyntheticParams:
    """Validate a ``params:synthetic`` mapping; a bad value raises ``ValueError`` naming it."""
    defaults = SyntheticParams()
    merged = {**{k: getattr(defaults, k) for k in SyntheticParams.__dataclass_fields__},
              **block_values(raw, "synthetic", SyntheticParams.__dataclass_fields__)}

    classes = _integer("classes", merged["classes"], 3, 5)
    if classes not in (3, 5):
        raise _fail("classes", "must be 3 (negative/positive/surprise) or 5 (CASME II)", classes)
    amplitude = _float_pair("amplitude_px", merged["amplitude_px"])
    if amplitude[0] <= 0:
        raise _fail("amplitude_px", "must be > 0 pixels", list(amplitude))
    face_width = _float_pair("face_width_px", merged["face_width_px"])
    if face_width[0] < MIN_FACE_WIDTH_PX:
        problem = f"must be >= {MIN_FACE_WIDTH_PX} px for dlib to find the face"
        raise _fail("face_width_px", problem, list(face_width))
    if amplitude[1] > MAX_AMPLITUDE_PER_FACE_WIDTH * face_width[0]:
        raise _fail(
            "amplitude_px",
            f"must stay <= {MAX_AMPLITUDE_PER_FACE_WIDTH} x the smallest face width "
            f"({MAX_AMPLITUDE_PER_FACE_WIDTH * face_width[0]:.2f} px) so the motion cannot "
            "fold the image",
            list(amplitude),
        )
    image_size = _int_pair("image_size", merged["image_size"], 16)
    if face_width[1] > 0.7 * min(image_size):
        problem = f"must fit in the frame (<= 0.7 x {min(image_size)} px)"
        raise _fail("face_width_px", problem, list(face_width))
    difficulty = _number("difficulty", merged["difficulty"])
    if not 0 <= difficulty <= 1:
        raise _fail("difficulty", "must be in [0, 1]", difficulty)
    frame_count = _int_pair("frame_count", merged["frame_count"], 3)
    layout = parse_layout(merged["layout"])
    subjects = _integer("subjects", merged["subjects"], 1, 99)
    clips_per_class = _integer("clips_per_class", merged["clips_per_class"], 1, 99)
    _check_layout_fits(layout, subjects, clips_per_class, classes)
    nuisance = merged["nuisance"]
    return SyntheticParams(
        seed=_integer("seed", merged["seed"], 0),
        layout=layout,
        subjects=subjects,
        clips_per_class=clips_per_class,
        classes=classes,
        frame_count=frame_count,
        onset_frame=_int_pair("onset_frame", merged["onset_frame"], 1),
        amplitude_px=amplitude,
        face_width_px=face_width,
        image_size=image_size,
        difficulty=difficulty,
        nuisance=nuisance if isinstance(nuisance, Nuisance) else _parse_nuisance(nuisance),
    )
