"""`kedro viz build` through the real CLI: the graph kedro-viz serves is readable."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.kedro_project import copy_project

LAYERS = ["raw", "intermediate", "primary", "model_input", "models", "model_output", "reporting"]


def test_kedro_viz_builds_a_layered_graph_with_collapsible_folds(tmp_path):
    project = copy_project(tmp_path / "project")
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    result = subprocess.run([kedro, "viz", "build"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    graph = json.loads((project / "build" / "api" / "main").read_text())

    # a fold's one node writes its checkpoint (models) and its predictions (model_output), so
    # the graph orders those two after model_input and before reporting, not between them
    layers = graph["layers"]
    assert sorted(layers) == sorted(LAYERS)
    assert layers[:4] == LAYERS[:4] and layers[-1] == "reporting"
    datasets = [n for n in graph["nodes"] if n["type"] == "data"]
    assert datasets and [n["name"] for n in datasets if not n.get("layer")] == []
    folds = [name for name in graph["modular_pipelines"] if name.startswith("fold_")]
    assert len(folds) == 8 and "final" in graph["modular_pipelines"]  # the default corpus
    training = [n for n in graph["nodes"] if n["type"] == "task" and "train_" in n["name"]]
    assert {tuple(n["modular_pipelines"]) for n in training} == {(f,) for f in [*folds, "final"]}
