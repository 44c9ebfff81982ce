"""A throw-away copy of this Kedro project's configuration, where benchmarks and tests run
`kedro run` without touching the project's data or its MLflow store. The package itself is not
copied: the copy runs the installed one."""

from __future__ import annotations

import shutil
from pathlib import Path

DATA_LAYERS = (
    "01_raw", "02_intermediate", "03_primary", "04_feature", "05_model_input", "06_models",
    "07_model_output", "08_reporting",
)


def copy_configuration(project: Path, destination: Path) -> Path:
    """``conf/base``, ``conf/logging.yml`` and ``pyproject.toml`` of ``project`` into
    ``destination`` (replacing an earlier copy's), with an empty ``conf/local``, ``src/``
    (Kedro checks that it exists) and the ``data/`` layer folders."""
    shutil.rmtree(destination / "conf" / "base", ignore_errors=True)
    shutil.copytree(project / "conf" / "base", destination / "conf" / "base")
    shutil.copy(project / "conf" / "logging.yml", destination / "conf" / "logging.yml")
    shutil.copy(project / "pyproject.toml", destination / "pyproject.toml")
    for folder in ("conf/local", "src", *(f"data/{layer}" for layer in DATA_LAYERS)):
        (destination / folder).mkdir(parents=True, exist_ok=True)
    return destination
