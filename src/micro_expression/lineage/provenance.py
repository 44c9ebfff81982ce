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


DATA_PATHS = ("data", "mlruns", "mlflow.db")
"""What a run writes inside the project: changes there do not make the code dirty."""


def code_version(project_path: Path) -> dict[str, str]:
    """Git commit of ``project_path`` (``unknown`` outside a git checkout), and whether its
    code or configuration differs from that commit (tracked files outside :data:`DATA_PATHS`).
    """
    try:
        commit = _git(project_path, "rev-parse", "HEAD")
        excluded = [f":(exclude){path}" for path in DATA_PATHS]
        changed = _git(project_path, "status", "--porcelain", "--untracked-files=no", "--",
                       ".", *excluded)
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
