"""``benchmarks/synthetic.py`` on a one-subject corpus, as a subprocess: its JSON."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "benchmarks" / "synthetic.py"
TINY = {"subjects": 1, "clips_per_class": 1, "frame_count": [6, 6], "image_size": [240, 320],
        "face_width_px": [110, 120], "amplitude_px": [0.8, 2.0]}


def tiny_params(path: Path) -> Path:
    """The default parameters with a corpus of one subject, one clip per class, 6 frames."""
    params = yaml.safe_load((PROJECT / "conf" / "base" / "parameters_synthetic.yml").read_text())
    params["synthetic"].update(TINY)
    path.write_text(yaml.safe_dump(params))
    return path


def test_the_benchmark_times_a_tiny_corpus(tmp_path):
    output = tmp_path / "synthetic.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--params", str(tiny_params(tmp_path / "params.yml")),
         "--output", str(output)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())
    classes = {"negative", "positive", "surprise"}
    assert (figures["subjects"], figures["clips"], figures["frames"]) == (1, 3, 18)
    assert figures["per_class"] == dict.fromkeys(classes, 1)
    assert figures["image_size"] == [240, 320]
    assert figures["write_seconds"] > 0 and figures["frames_per_second"] > 0
    assert figures["megabytes"] > 0
    assert "synthetic corpus: 3 clips, 18 frames" in done.stdout
