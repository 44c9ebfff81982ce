"""``benchmarks/ablation.py``: one arm, one seed, on a tiny project copy, as a subprocess: its
records, its table and its MLflow run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.benchmarks.kedro_logs import failure
from tests.kedro_project import configure_tiny_run, copy_project

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "ablation.py"


def configured(project: Path, name: str) -> str:
    params = yaml.safe_load((project / "conf/base/parameters_preprocessing.yml").read_text())
    return str(params["preprocessing"][name])


@pytest.mark.slow
def test_one_arm_at_one_seed_is_recorded_tabled_and_logged(tmp_path):
    # The workspaces copy the tiny project's configuration: two subjects, a few steps a fold.
    project = copy_project(tmp_path / "project")
    configure_tiny_run(project, subjects=2, workers=1)
    output = tmp_path / "results" / "ablation.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--arms", "full", "--seeds", "42", "--threads", "1",
         "--project", str(project), "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, failure(done, output.parent / "workspaces")
    stabilisation = configured(project, "stabilisation")
    (record,) = json.loads(output.read_text())["records"]
    assert {k: record[k] for k in ("point", "arm", "seed", "stabilisation", "flow_targets")} == {
        "point": "default", "arm": "full", "seed": 42, "stabilisation": stabilisation,
        "flow_targets": configured(project, "flow_brightness")}
    for score in ("accuracy", "uf1", "uar", "wf1"):
        assert 0 <= record[score] <= 1, score
    assert record["flow_epe"] > 0 and record["landmark_nme"] > 0 and record["seconds"] > 0
    assert f"| MER + flow + landmarks (MOL, default) | {stabilisation} | 1 |" in done.stdout
    # The LOSO run happened in a workspace beside the records, not under benchmarks/results.
    assert (tmp_path / "results/workspaces/default/data/08_reporting/loso_scores.csv").is_file()

    uri = f"sqlite:///{project / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("micro_expression_benchmarks")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "ablation"
    assert run.data.metrics[f"default.full.{stabilisation}.uf1_mean"] == record["uf1"]
    # Its artifacts went to the project's mlruns, not to the working directory's.
    assert run.info.artifact_uri.startswith(str(project / "mlruns"))
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"ablation.json", "ablation_default.csv"}
