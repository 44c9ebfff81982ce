"""Inference throughput and latency: the pipeline, the Python API and the HTTP server.

Uses the newest registered ``micro-expression-mol`` of this project's MLflow store (run the
default ``kedro run`` first) and the clips of the generated corpus in ``data/01_raw`` (or those
of the project ``--project`` names).

* **pipeline**: `kedro run --pipelines inference` over the whole corpus in a throw-away copy of
  the project (empty clip cache: detection, alignment and TV-L1 included), then again with the
  cache warm; clips per second of each, process start-up included.
* **Python**: ``mlflow.pyfunc.load_model(...).predict`` on one clip folder: seconds per clip.
* **HTTP**: `mlflow models serve` on 127.0.0.1, warmed by one request, then one clip per
  request (latency) and 8 clips (or every clip of a smaller corpus) in one request (clips per
  second).

The Python and HTTP routes may read the corpus (``serving.path_roots``: a served model reads
no paths by default), and every record they answer must be scored: a refused one says why and stops
the benchmark, since timing refusals would not measure inference.
Prints the figures and writes ``benchmarks/results/inference.json``.
Usage: ``python benchmarks/inference.py [--requests 5] [--project PATH] [--output PATH]``
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
CORPUS = Path("data") / "01_raw" / "synthetic"  # in the project
MODEL = "micro-expression-mol"
BATCH = 8  # clips in the one request timed for throughput


def clip_folders(corpus: Path) -> list[Path]:
    folders = sorted(p for p in (corpus / "CASME2_RAW_selected").glob("sub*/*") if p.is_dir())
    if not folders:
        raise SystemExit(f"no generated corpus in {corpus}: run `kedro run` first")
    return folders


def pipeline_seconds(workspace: Path, corpus: Path) -> float:
    kedro = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    started = time.perf_counter()
    subprocess.run([kedro, "run", "--pipelines", "inference", "--params",
                    f"inference.source={corpus}"], cwd=workspace, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def workspace_copy(project: Path, folder: Path) -> Path:
    """Configuration and the MLflow store (its artifacts stay where they are), no data."""
    copy_configuration(project, folder)
    shutil.copy(project / "mlflow.db", folder / "mlflow.db")
    return folder


def require_scored(rows: list[dict], route: str) -> None:
    """Stop on a refused or failed record: its fast answer would pass for inference."""
    if refused := [row for row in rows if row["status"] != "scored"]:
        raise SystemExit(f"{route}: {len(refused)} records not scored, the first: "
                         f"{refused[0]['status']}, {refused[0]['reason']}")


def post(url: str, records: list[dict]) -> None:
    request = urllib.request.Request(
        f"{url}/invocations", data=json.dumps({"dataframe_records": records}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        require_scored(json.loads(response.read())["predictions"], "HTTP")


def serve(folder: Path, limits: dict) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
           "MLFLOW_PYFUNC_INFERENCE_CONFIG": json.dumps(limits),
           # mlflow starts `uvicorn` by name: find the one beside this interpreter.
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    log = folder / "server.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("mlflow")), "models", "serve", "-m",
             f"models:/{MODEL}/latest", "--env-manager", "local", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        if server.poll() is not None:
            raise SystemExit(f"the model server exited: {log.read_text()[-3000:]}")
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
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the Kedro project whose model and corpus are used "
                             "(default: this one)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON written")
    args = parser.parse_args()
    corpus = args.project.resolve() / CORPUS
    folders = clip_folders(corpus)
    timed, batch = folders[1:1 + args.requests], folders[:BATCH]  # fewer in a smaller corpus
    figures: dict[str, float | str] = {
        "device": "cuda" if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)",
        "machine": platform.machine(), "clips": len(folders),
    }
    with tempfile.TemporaryDirectory() as scratch:
        workspace = workspace_copy(args.project, Path(scratch) / "project")
        cold = pipeline_seconds(workspace, corpus)
        warm = pipeline_seconds(workspace, corpus)
        figures.update(pipeline_cold_s=round(cold, 1), pipeline_cold_clips_per_s=round(
            len(folders) / cold, 2), pipeline_warm_s=round(warm, 1),
            pipeline_warm_clips_per_s=round(len(folders) / warm, 2))

        import mlflow

        limits = {"serving": {"path_roots": [str(corpus)]}}
        mlflow.set_tracking_uri(f"sqlite:///{workspace / 'mlflow.db'}")
        model = mlflow.pyfunc.load_model(f"models:/{MODEL}/latest", model_config=limits)
        model.predict({"path": str(folders[0])})  # warm: imports, dlib models
        started = time.perf_counter()
        for folder in timed:
            require_scored(model.predict({"path": str(folder)}).to_dict("records"), "Python")
        figures["python_s_per_clip"] = round((time.perf_counter() - started) / len(timed), 3)

        server, url = serve(workspace, limits)
        try:
            post(url, [{"path": str(folders[0])}])
            latencies = []
            for folder in timed:
                started = time.perf_counter()
                post(url, [{"path": str(folder)}])
                latencies.append(time.perf_counter() - started)
            started = time.perf_counter()
            post(url, [{"path": str(f)} for f in batch])
            batch_seconds = time.perf_counter() - started
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        figures.update(http_latency_s_median=round(statistics.median(latencies), 3),
                       http_batch8_clips_per_s=round(len(batch) / batch_seconds, 2))
    for name, value in figures.items():
        print(f"{name}: {value}")  # noqa: T201
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2))
    print(f"wrote {args.output}")  # noqa: T201


if __name__ == "__main__":
    main()
