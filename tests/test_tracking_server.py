"""Lineage on a shared MLflow server: a real `mlflow server` on 127.0.0.1 (sqlite backend,
proxied artifacts in temp folders), a real `kedro run` of a tiny corpus against it over HTTP,
and the record read back through the server's REST API."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.kedro_project import configure_tiny_run, copy_project, kedro_run


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`mlflow server` with a sqlite backend and served artifacts; its URL. Stopped after."""
    folder = tmp_path_factory.mktemp("mlflow_server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mlflow_cli = str(Path(sys.executable).with_name("mlflow"))
    log = (folder / "server.log").open("wb")  # a pipe nobody reads would block the server
    process = subprocess.Popen(
        [mlflow_cli, "server", "--backend-store-uri", f"sqlite:///{folder / 'backend.db'}",
         "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited: {(folder / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no answer from {url}/health within 180 s") from None
                time.sleep(1)
        yield url, folder
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


def _get(url, endpoint, **query):
    with urllib.request.urlopen(f"{url}{endpoint}?{urllib.parse.urlencode(query)}",
                                timeout=30) as response:
        return response.read()


def _post(url, path, body):
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_run_against_a_tracking_server_is_recorded_there(server, tmp_path):
    url, folder = server
    project = copy_project(tmp_path / "project")
    configure_tiny_run(project, subjects=2, workers=1)
    config = yaml.safe_load((project / "conf/base/mlflow.yml").read_text())
    config["server"]["mlflow_tracking_uri"] = url
    (project / "conf/local/mlflow.yml").write_text(yaml.safe_dump(config))

    result = kedro_run(project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert not (project / "mlflow.db").exists()  # nothing went to a local store

    experiment = json.loads(_get(url, "/api/2.0/mlflow/experiments/get-by-name",
                                 experiment_name="micro_expression"))["experiment"]
    runs = _post(url, "/api/2.0/mlflow/runs/search",
                 {"experiment_ids": [experiment["experiment_id"]], "max_results": 50})["runs"]
    tags = [{t["key"]: t["value"] for t in run["data"].get("tags", [])} for run in runs]
    parents = [run for run, tag in zip(runs, tags) if "mlflow.parentRunId" not in tag]
    assert len(parents) == 1 and len(runs) == 1 + 3  # the parent, two folds and the final
    parent = parents[0]
    parent_id = parent["info"]["run_id"]
    parent_tags = {t["key"]: t["value"] for t in parent["data"]["tags"]}
    assert len(parent_tags["clip_index_digest"]) == 64
    metrics = {m["key"]: m["value"] for m in parent["data"]["metrics"]}
    assert 0.0 <= metrics["loso.overall.uf1"] <= 1.0
    for tag in tags:
        if "mlflow.parentRunId" in tag:
            assert tag["mlflow.parentRunId"] == parent_id
            assert tag["clip_index_digest"] == parent_tags["clip_index_digest"]

    listed = json.loads(_get(url, "/api/2.0/mlflow/artifacts/list", run_id=parent_id,
                             path="ingestion"))
    assert "ingestion/clip_index.csv" in {f["path"] for f in listed["files"]}
    csv = _get(url, "/get-artifact", path="ingestion/clip_index.csv", run_uuid=parent_id)
    assert csv.decode().count("\n") == 1 + 6  # header and the six clips
    assert any((folder / "artifacts").rglob("clip_index.csv"))  # stored by the server

    model = json.loads(_get(url, "/api/2.0/mlflow/registered-models/get",
                            name="micro-expression-mol"))["registered_model"]
    assert {a["alias"] for a in model["aliases"]} == {"scored", "synthetic"}
    version = json.loads(_get(url, "/api/2.0/mlflow/model-versions/get",
                              name="micro-expression-mol", version="1"))["model_version"]
    assert version["run_id"] == parent_id and "every subject" in version["description"]

    audit = subprocess.run(
        [str(Path(sys.executable).with_name("kedro")), "lineage",
         "models:/micro-expression-mol@synthetic"],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "500"},
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "data unchanged since this run" in audit.stdout
