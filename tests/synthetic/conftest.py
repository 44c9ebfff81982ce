"""A tiny generated corpus shared by the synthetic tests (written once per session)."""

from pathlib import Path

import pytest

from micro_expression.synthetic import generate_corpus
from micro_expression.synthetic import writer as writer_module

TINY = {
    "seed": 11,
    "subjects": 2,
    "clips_per_class": 1,
    "classes": 3,
    "frame_count": [8, 10],
    "image_size": [240, 320],
    "face_width_px": [125, 140],
    "amplitude_px": [1.5, 2.5],
}


@pytest.fixture(scope="session")
def tiny_params() -> dict:
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_corpus_root(tmp_path_factory) -> Path:
    """Root of the tiny corpus, written once; tests must not modify it."""
    root = tmp_path_factory.mktemp("tiny") / "synthetic"
    generate_corpus(TINY).write(root)
    return root


@pytest.fixture
def rendered_clips(monkeypatch) -> list[str]:
    """Ids of the clips rendered by ``write`` during a test."""
    rendered = []
    real = writer_module.render_clip

    def counting(clip, face, params):
        rendered.append(clip.clip_id)
        return real(clip, face, params)

    monkeypatch.setattr(writer_module, "render_clip", counting)
    return rendered
