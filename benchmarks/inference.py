"""Inference throughput and latency: the pipeline, the Python API and the HTTP server.

Uses the newest registered ``micro-expression-mol`` of this project's MLflow store (run the
default ``kedro run`` first) and the clips of the generated corpus in ``data/01_raw``.

* **pipeline**: `kedro run --pipelines inference` over the whole corpus in a throw-away copy of
  the project (empty clip cache: detection, alignment and TV-L1 included), then again with the
  cache warm; clips per second of each, process start-up included.
* **Python**: ``mlflow.pyfunc.load_model(...).predict`` on one clip folder: seconds per clip.
* **HTTP**: `mlflow models serve` on 127.0.0.1, warmed by one request, then one clip per
  request (latency) and 8 clips in one request (clips per second).

Prints the figures and writes ``benchmarks/results/inference.json``.
Usage: ``python benchmarks/inference.py [--requests 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import torch

from micro_expression.project_copy import copy_configuration

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "inference.json"
CORPUS = ROOT / "data" / "01_raw" / "synthetic"
MODEL = "micro-expression-mol"


def clip_folders() -> list[Path]:
    folders = sorted(p for p in (CORPUS / "CASME2_RAW_selected").glob("sub*/*") if p.is_dir())
    if not folders:
        raise SystemExit(f"no generated corpus in {CORPUS}: run `kedro run` first")
    return folders


def pipeline_seconds(workspace: Path) -> float:
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    started = time.perf_counter()
    subprocess.run([kedro, "run", "--pipelines", "inference", "--params",
                    f"inference.source={CORPUS}"], cwd=workspace, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def workspace_copy(folder: Path) -> Path:
    """Configuration and the MLflow store (its artifacts stay where they are), no data."""
    copy_configuration(ROOT, folder)
    shutil.copy(ROOT / "mlflow.db", folder / "mlflow.db")
    return folder


def post(url: str, records: list[dict]) -> dict:
    request = urllib.request.Request(
        f"{url}/invocations", data=json.dumps({"dataframe_records": records}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("mlflow")), "models", "serve", "-m",
         f"models:/{MODEL}/latest", "--env-manager", "local", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2):
                return server, url
        except OSError:
            time.sleep(1)
    server.kill()
    raise SystemExit("the model server did not answer within 240 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5, help="single-clip requests timed")
    args = parser.parse_args()
    folders = clip_folders()
    figures: dict[str, float | str] = {
        "device": "cuda" if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)",
        "machine": platform.machine(), "clips": len(folders),
    }
    with tempfile.TemporaryDirectory() as scratch:
        workspace = workspace_copy(Path(scratch) / "project")
        cold = pipeline_seconds(workspace)
        warm = pipeline_seconds(workspace)
        figures.update(pipeline_cold_s=round(cold, 1), pipeline_cold_clips_per_s=round(
            len(folders) / cold, 2), pipeline_warm_s=round(warm, 1),
            pipeline_warm_clips_per_s=round(len(folders) / warm, 2))

        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{workspace / 'mlflow.db'}")
        model = mlflow.pyfunc.load_model(f"models:/{MODEL}/latest")
        model.predict({"path": str(folders[0])})  # warm: imports, dlib models
        started = time.perf_counter()
        for folder in folders[1:1 + args.requests]:
            model.predict({"path": str(folder)})
        figures["python_s_per_clip"] = round((time.perf_counter() - started) / args.requests, 3)

        server, url = serve(workspace)
        try:
            post(url, [{"path": str(folders[0])}])
            latencies = []
            for folder in folders[1:1 + args.requests]:
                started = time.perf_counter()
                post(url, [{"path": str(folder)}])
                latencies.append(time.perf_counter() - started)
            batch = [{"path": str(f)} for f in folders[:8]]
            started = time.perf_counter()
            post(url, batch)
            batch_seconds = time.perf_counter() - started
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        figures.update(http_latency_s_median=round(statistics.median(latencies), 3),
                       http_batch8_clips_per_s=round(8 / batch_seconds, 2))
    for name, value in figures.items():
        print(f"{name}: {value}")  # noqa: T201
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(f"wrote {RESULTS}")  # noqa: T201


if __name__ == "__main__":
    main()
