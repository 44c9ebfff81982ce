"""A throw-away copy of this Kedro project, and `kedro run` through the real CLI in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from micro_expression.project_copy import copy_configuration

PROJECT = Path(__file__).resolve().parents[1]


def copy_project(destination: Path) -> Path:
    """Configuration, notebooks and pyproject; the package comes from the installed one."""
    copy_configuration(PROJECT, destination)
    shutil.copytree(PROJECT / "notebooks", destination / "notebooks")
    return destination


def kedro_run(project: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """`kedro run <args>` in ``project``; stdout and stderr captured as text."""
    kedro = str(Path(sys.executable).with_name("kedro"))
    # A wide console keeps rich from wrapping paths in the messages the tests look for.
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "COLUMNS": "500"}
    return subprocess.run(
        [kedro, "run", *args], cwd=project, env=env, capture_output=True, text=True,
        timeout=timeout,
    )


def set_parameters(project: Path, pipeline: str, updates: dict) -> None:
    """Deep-update ``conf/base/parameters_<pipeline>.yml`` of a project copy.

    Pipelines are registered from configuration (the training folds come from the subject
    list), so tests change the files rather than pass ``--params``.
    """
    path = project / "conf" / "base" / f"parameters_{pipeline}.yml"
    config = yaml.safe_load(path.read_text())
    _deep_update(config, updates)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def configure_tiny_run(project: Path, subjects: int, workers: int = 2) -> None:
    """A generated corpus of ``subjects`` x 3 small clips and a few training steps per fold:
    the whole pipeline in about a minute, every stage exercised."""
    set_parameters(project, "synthetic", {"synthetic": {
        "subjects": subjects, "clips_per_class": 1, "frame_count": [9, 11],
        "image_size": [240, 320], "face_width_px": [110, 120], "amplitude_px": [0.8, 2.0],
    }})
    set_parameters(project, "preprocessing", {"preprocessing": {"workers": workers,
                                                                 "qa_clips": 1}})
    set_parameters(project, "training", {"training": {
        "steps": 3, "batch_size": 3, "threads": 1, "schedule": {"warmup_steps": 0}}})


def _deep_update(target: dict, updates: dict) -> None:
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value
