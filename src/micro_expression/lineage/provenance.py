"""Which code and which libraries produced a run."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

TRACKED_DISTRIBUTIONS = (
    "kedro",
    "kedro-datasets",
    "kedro-mlflow",
    "mlflow",
    "torch",
    "opencv-contrib-python-headless",
    "dlib-bin",
    "numpy",
    "pandas",
    "scikit-image",
)


def code_version(project_path: Path) -> dict[str, str]:
    """Git commit of ``project_path`` (``unknown`` outside a git checkout), and whether it is
    dirty."""
    try:
        commit = _git(project_path, "rev-parse", "HEAD")
        changed = _git(project_path, "status", "--porcelain", "--untracked-files=no")
        dirty = "true" if changed else "false"
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": "unknown", "git_dirty": "unknown"}
    return {"git_commit": commit, "git_dirty": dirty}


def environment_versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries that shape results."""
    versions = {
        "python": platform.python_version(), "micro_expression": _version("micro_expression")
    }
    versions.update({name: _version(name) for name in TRACKED_DISTRIBUTIONS})
    return versions


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=10
    ).stdout.strip()
