"""Locate and load the dlib models shipped by the ``face-recognition-models`` package.

The package itself is never imported: its ``__init__`` needs the removed ``pkg_resources``.
The 68-point predictor was trained on iBUG 300-W, which is licensed for research use only.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import dlib

SHAPE_PREDICTOR_68 = "shape_predictor_68_face_landmarks.dat"


def models_dir() -> Path:
    """Folder holding the ``.dat`` model files of ``face-recognition-models``."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "face-recognition-models is not installed: `pip install face-recognition-models` "
            "provides the dlib 68-point landmark model"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def shape_predictor_path() -> Path:
    """Path of the 68-point landmark model; raises naming the path when it is missing."""
    path = models_dir() / SHAPE_PREDICTOR_68
    if not path.is_file():
        raise FileNotFoundError(f"dlib 68-point landmark model not found at {path}")
    return path


@cache
def frontal_face_detector() -> dlib.fhog_object_detector:
    """dlib's HOG frontal face detector (cached per process)."""
    return dlib.get_frontal_face_detector()


@cache
def landmark_predictor() -> dlib.shape_predictor:
    """dlib's 68-point shape predictor (cached per process)."""
    return dlib.shape_predictor(str(shape_predictor_path()))
