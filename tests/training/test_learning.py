"""MOL must fit a handful of generated clips: the check that recognition learns at all.

The clips come from the real chain on a small generated corpus (JPEG frames of the astronaut
face with sub-pixel to 2.5 px action-unit motions, dlib alignment, TV-L1 targets), so a model
that cannot see the motion the corpus carries fails here, not in a 15-minute LOSO run. With
each frame fed alone (``representation="frames"``, as the paper does) the training loss stays
near ln 3 within this bound of steps.
"""

from pathlib import Path

import pytest
import torch

from micro_expression.io.clip_cache import ClipCache
from micro_expression.io.mer_source import MERSourceDataset
from micro_expression.pipelines.ingestion.nodes import build_clip_index, check_clip_index
from micro_expression.pipelines.preprocessing.nodes import preprocess_clips
from micro_expression.synthetic import generate_corpus
from micro_expression.training.data import ClipSamples
from micro_expression.training.loop import TrainingConfig, load_model, train_model

CORPUS = {
    "seed": 5,
    "subjects": 2,
    "clips_per_class": 2,
    "classes": 3,
    "frame_count": [12, 14],
    "image_size": [480, 640],
}
PREPROCESSING = {"workers": 2, "qa_clips": 1}
STEPS = 60
"""The bound: 60 steps of 6 clips, 30 passes over the 12 clips."""


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> ClipSamples:
    folder: Path = tmp_path_factory.mktemp("learning")
    generate_corpus(CORPUS).write(folder / "synthetic")
    raw = MERSourceDataset(name="synthetic", root=str(folder / "synthetic"), classes=3).load()
    clip_index, rejected = build_clip_index(raw, {})
    summary = check_clip_index(clip_index, rejected, {"strict": True})
    store = ClipCache(folder / "clips")
    index, rejections, _ = preprocess_clips(clip_index, summary, store, PREPROCESSING)
    assert rejections.empty and len(index) == 12
    return index.assign(target=index["label_id"]), store


def training_accuracy(clips, config: TrainingConfig) -> tuple[float, float]:
    """(accuracy on the training clips' centre windows, mean training loss of the last steps)."""
    index, store = clips
    fields = config.sample_fields()
    trained = train_model(
        ClipSamples(index, store, augment=True, seed=0, fields=fields), None, 3, config, seed=0
    )
    model = load_model({"model": config.model_args(3), "state_dict": trained.state_dict})
    samples = ClipSamples(index, store, augment=False, fields=fields)
    batch = next(iter(torch.utils.data.DataLoader(samples, batch_size=len(samples))))
    with torch.no_grad():
        predicted = model(batch["frames"]).logits.argmax(dim=1)
    accuracy = (predicted == batch["label"]).float().mean().item()
    return accuracy, float(trained.history["train_mer"].tail(10).mean())


@pytest.mark.parametrize(
    "tasks", [{"flow": False, "landmarks": False}, {"flow": True, "landmarks": True}],
    ids=["recognition_only", "all_three_tasks"],
)
def test_mol_small_fits_a_handful_of_generated_clips(clips, tasks):
    torch.set_num_threads(1)  # test workers share two cores
    config = TrainingConfig.from_params(
        {"steps": STEPS, "batch_size": 6, "threads": 1, "tasks": tasks,
         "schedule": {"warmup_steps": 6}}
    )
    accuracy, loss = training_accuracy(clips, config)
    assert accuracy >= 0.9, f"training accuracy {accuracy:.2f}, recognition loss {loss:.3f}"
