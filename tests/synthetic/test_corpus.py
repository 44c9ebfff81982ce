import json
import re

import cv2
import numpy as np
import pandas as pd
import pytest

from micro_expression import synthetic
from micro_expression.synthetic import generate_corpus

CASME2_COLUMNS = [
    "Subject", "Filename", "Unnamed: 2", "OnsetFrame", "ApexFrame", "OffsetFrame",
    "Unnamed: 6", "Action Units", "Estimated Emotion",
]  # fmt: skip


def _tree_bytes(root):
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_plan_is_balanced_and_free_of_pixels(tiny_params):
    corpus = generate_corpus({**tiny_params, "subjects": 3, "clips_per_class": 2, "classes": 5})
    counts = corpus.counts()
    assert counts["clips"] == 3 * 5 * 2 and counts["subjects"] == 3
    # Every subject has every class equally often: identity says nothing about the class.
    balanced = dict.fromkeys(counts["per_class"], 2)
    assert all(per == balanced for per in counts["per_subject"].values())
    assert set(counts["per_emotion"]) == {
        "happiness", "surprise", "disgust", "repression", "others",
    }  # fmt: skip
    names = [(c.subject, c.filename) for c in corpus.clips]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"EP\d\d_\d\df?", c.filename) for c in corpus.clips)
    assert all(c.onset < c.apex < c.offset and c.onset >= 40 for c in corpus.clips)


def test_three_classes_use_casme2_emotions_that_map_to_them(tiny_params):
    corpus = generate_corpus({**tiny_params, "subjects": 6, "clips_per_class": 3})
    by_label = {c.label: set() for c in corpus.clips}
    for clip in corpus.clips:
        by_label[clip.label].add(clip.emotion)
    assert by_label == {
        "negative": {"disgust", "repression"},
        "positive": {"happiness"},
        "surprise": {"surprise"},
    }


def test_layout_sheet_and_frames_follow_casme2(tiny_corpus_root, tiny_params):
    corpus = generate_corpus(tiny_params)
    sheet = pd.read_excel(tiny_corpus_root / "CASME2-coding-20140508.xlsx")
    assert list(sheet.columns) == CASME2_COLUMNS
    assert sheet["Subject"].dtype.kind == "i" and sorted(sheet["Subject"].unique()) == [1, 2]
    assert set(sheet["Estimated Emotion"]) <= {"happiness", "surprise", "disgust", "repression"}
    assert len(sheet) == len(corpus.clips)
    for row in sheet.itertuples(index=False):
        clip_dir = tiny_corpus_root / "CASME2_RAW_selected" / f"sub{row.Subject:02d}" / row.Filename
        numbers = sorted(int(p.stem[3:]) for p in clip_dir.glob("img*.jpg"))
        assert numbers == list(range(row.OnsetFrame, row.OffsetFrame + 1))
        assert row.OnsetFrame < row.ApexFrame < row.OffsetFrame
        truth = tiny_corpus_root / "ground_truth" / f"sub{row.Subject:02d}" / f"{row.Filename}.npz"
        assert truth.is_file()
    frame = cv2.imread(str(next((tiny_corpus_root / "CASME2_RAW_selected").rglob("*.jpg"))))
    assert frame.shape == (240, 320, 3)
    assert np.abs(frame[..., 0].astype(int) - frame[..., 2]).mean() > 5  # colour, not grey


def test_manifest_lists_every_file_with_its_digest(tiny_corpus_root, tiny_params):
    manifest = json.loads((tiny_corpus_root / "corpus.json").read_text())
    files = {
        p.relative_to(tiny_corpus_root).as_posix()
        for p in tiny_corpus_root.rglob("*")
        if p.is_file() and p.name not in ("corpus.json", ".synthetic-corpus")
    }
    assert set(manifest["files"]) == files
    assert manifest["seed"] == tiny_params["seed"]
    assert manifest["params_digest"] == synthetic.parse_params(tiny_params).digest()
    assert manifest["package_version"]
    assert manifest["counts"]["clips"] == 6
    assert manifest["counts"]["frames"] == sum(1 for f in files if f.endswith(".jpg"))


def test_same_seed_same_bytes_other_seed_other_bytes(tiny_corpus_root, tiny_params, tmp_path):
    generate_corpus(tiny_params).write(tmp_path / "again")
    assert _tree_bytes(tmp_path / "again") == _tree_bytes(tiny_corpus_root)
    generate_corpus({**tiny_params, "seed": tiny_params["seed"] + 1}).write(tmp_path / "other")
    original, other = _tree_bytes(tiny_corpus_root), _tree_bytes(tmp_path / "other")
    frames = [name for name in other if name.endswith(".jpg")]
    assert all(other[name] != original.get(name) for name in frames)
    assert other["CASME2-coding-20140508.xlsx"] != original["CASME2-coding-20140508.xlsx"]


def test_intact_corpus_is_not_rewritten_damaged_clip_is(tiny_params, tmp_path, rendered_clips):
    corpus = generate_corpus(tiny_params)
    root = tmp_path / "synthetic"
    first = corpus.write(root)
    assert len(rendered_clips) == len(corpus.clips)
    original = _tree_bytes(root)

    rendered_clips.clear()
    assert corpus.write(root) == first
    assert rendered_clips == []

    damaged_clip = corpus.clips[2]
    frame = root / damaged_clip.frame_file(damaged_clip.apex)
    frame.write_bytes(frame.read_bytes()[:100])
    (root / corpus.clips[4].ground_truth_file).unlink()
    assert corpus.write(root) == first
    assert sorted(rendered_clips) == sorted([damaged_clip.clip_id, corpus.clips[4].clip_id])
    assert _tree_bytes(root) == original


def test_stray_frame_marks_the_clip_damaged(tiny_params, tmp_path, rendered_clips):
    corpus = generate_corpus(tiny_params)
    root = tmp_path / "synthetic"
    corpus.write(root)
    clip = corpus.clips[0]
    (root / clip.clip_folder / f"img{clip.offset + 1}.jpg").write_bytes(b"stray")
    rendered_clips.clear()
    corpus.write(root)
    assert rendered_clips == [clip.clip_id]
    assert not (root / clip.clip_folder / f"img{clip.offset + 1}.jpg").exists()


def test_new_parameters_replace_the_old_corpus(tiny_params, tmp_path):
    root = tmp_path / "synthetic"
    generate_corpus(tiny_params).write(root)
    smaller = generate_corpus({**tiny_params, "subjects": 1, "seed": 5})
    manifest = smaller.write(root)
    assert manifest["params"]["subjects"] == 1
    assert not (root / "CASME2_RAW_selected" / "sub02").exists()
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == set(manifest["files"]) | {"corpus.json", ".synthetic-corpus"}


def test_refuses_to_overwrite_a_folder_that_is_not_a_generated_corpus(tiny_params, tmp_path):
    root = tmp_path / "CASME2"
    (root / "CASME2_RAW_selected" / "sub01").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_corpus(tiny_params).write(root)
    assert (root / "CASME2_RAW_selected" / "sub01").is_dir()
