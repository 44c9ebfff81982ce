"""Stabilisation candidates side by side on generated corpora with known head motion.

For each peak head motion in ``--head-motion`` (``synthetic.nuisance.head_jitter_px``; the
rest of ``conf/base/parameters_synthetic.yml`` is kept, with ``--subjects`` subjects and one
clip per class), a corpus is generated into a temporary folder and every clip preprocessed
(the configured preprocessing, one worker) with each ``preprocessing.stabilisation`` in
``--methods``. Against the generator's ground truth (``preprocessing/quality.py``): the rigid
motion left in the crops (``rigid_residual_px``, crop px, mean and 95th percentile over clips),
the flow targets' error against the motion in the crops (``flow_epe``) and against the face's
own motion (``expression_epe``, with its zero-flow baseline), the landmark error, and the
preprocessing seconds per clip (one core, process time).

Prints a Markdown table and saves ``benchmarks/results/stabilisation.json``.
Usage: ``python benchmarks/stabilisation.py [--head-motion 0.3 1.8 3.6 7] [--methods none
landmarks ecc] [--motion euclidean|affine] [--subjects 2] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from micro_expression.face.stabilisation import MOTIONS, STABILISATIONS
from micro_expression.preprocessing.clip import ClipRejected, preprocess_clip
from micro_expression.preprocessing.config import PreprocessingConfig
from micro_expression.preprocessing.quality import clip_quality
from micro_expression.readers.ground_truth import ground_truth_file
from micro_expression.synthetic import generate_corpus

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "stabilisation.json"
MEASURES = ("rigid_residual_px", "rigid_residual_px_worst_frame", "flow_epe", "expression_epe",
            "expression_epe_zero", "landmark_nme")


def load_params(name: str) -> dict[str, Any]:
    """The ``name`` block of ``conf/base/parameters_<name>.yml``."""
    return yaml.safe_load((PROJECT / "conf" / "base" / f"parameters_{name}.yml").read_text())[name]


def write_corpus(root: Path, head_motion: float, subjects: int) -> dict[str, tuple[list[str], str]]:
    """A generated corpus at ``root``: frame paths and ground-truth file by clip."""
    params = load_params("synthetic")
    params.update(subjects=subjects, clips_per_class=1)
    params["nuisance"] = {**params["nuisance"], "head_jitter_px": head_motion}
    generate_corpus(params).write(root)
    clips = {}
    for clip in sorted((root / "CASME2_RAW_selected").glob("sub*/*")):
        frames = sorted(clip.glob("img*.jpg"), key=lambda p: int(p.stem[3:]))
        truth = ground_truth_file(root, clip.parent.name, clip.name)
        clips[f"{clip.parent.name}/{clip.name}"] = ([str(p) for p in frames], str(truth))
    return clips


def score(clips: dict[str, tuple[list[str], str]], config: PreprocessingConfig) -> dict[str, Any]:
    """Quality and seconds of one method over the clips."""
    rows, rejected, fallbacks, seconds = [], {}, 0, 0.0
    for clip_id, (paths, truth) in clips.items():
        started = time.process_time()
        try:
            arrays = preprocess_clip(paths, config)
        except ClipRejected as error:
            rejected[clip_id] = str(error)
            continue
        seconds += time.process_time() - started
        fallbacks += int(arrays.stabilisation_fallback.sum())
        rows.append(clip_quality(truth, arrays))
    figures: dict[str, Any] = {"clips": len(rows), "rejected": rejected,
                               "ecc_fallback_frames": fallbacks,
                               "seconds_per_clip": seconds / max(len(rows), 1)}
    for measure in MEASURES:
        values = np.array([row[measure] for row in rows])
        figures[measure] = {"mean": float(values.mean()),
                            "p95": float(np.percentile(values, 95))} if len(values) else None
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head-motion", nargs="+", type=float, default=[0.3, 1.8, 3.6, 7.0],
                        help="peak rigid head motion of each corpus (px)")
    parser.add_argument("--methods", nargs="+", choices=STABILISATIONS, default=STABILISATIONS)
    parser.add_argument("--motion", choices=list(MOTIONS),
                        default=load_params("preprocessing")["stabilisation_motion"])
    parser.add_argument("--subjects", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core: seconds per clip do not depend on the machine's load
    base = dataclasses.replace(PreprocessingConfig.from_params(load_params("preprocessing")),
                               workers=1, stabilisation_motion=args.motion)

    results: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "opencv": cv2.__version__},
        "args": {"head_motion": args.head_motion, "methods": args.methods,
                 "motion": args.motion, "subjects": args.subjects},
        "points": {},
    }
    say("| head motion (px) | stabilisation | clips | rigid residual mean / p95 (px) | "
        "flow EPE (px) | expression EPE / zero (px) | landmark NME | s per clip |")
    say("|---|---|---|---|---|---|---|---|")
    for head_motion in args.head_motion:
        with tempfile.TemporaryDirectory(prefix="stabilisation-") as folder:
            clips = write_corpus(Path(folder), head_motion, args.subjects)
            point = results["points"][str(head_motion)] = {}
            for method in args.methods:
                config = dataclasses.replace(base, stabilisation=method)
                figures = point[method] = score(clips, config)
                if figures["rigid_residual_px"] is None:
                    say(f"| {head_motion} | {method} | 0 | every clip rejected | | | | |")
                    continue
                say(f"| {head_motion} | {method} | {figures['clips']} | "
                    f"{figures['rigid_residual_px']['mean']:.3f} / "
                    f"{figures['rigid_residual_px']['p95']:.3f} | "
                    f"{figures['flow_epe']['mean']:.3f} | "
                    f"{figures['expression_epe']['mean']:.3f} / "
                    f"{figures['expression_epe_zero']['mean']:.3f} | "
                    f"{figures['landmark_nme']['mean']:.3f} | {figures['seconds_per_clip']:.2f} |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    say(f"wrote {args.output}")


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
