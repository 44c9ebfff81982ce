"""The generated corpus in every dataset layout, read back by that dataset's real reader."""

import os

import pytest

from micro_expression.readers import generated, read_source, scheme_for
from micro_expression.readers.ground_truth import GROUND_TRUTH_FOLDER, load_ground_truth
from micro_expression.readers.labels import GENERATED_LAYOUTS
from micro_expression.readers.validation import triage
from micro_expression.synthetic import generate_corpus
from micro_expression.synthetic.layouts import LAYOUTS

SMALL = {
    "seed": 5,
    "subjects": 3,
    "clips_per_class": 1,
    "frame_count": [4, 5],
    "image_size": [240, 320],
    "face_width_px": [125, 140],
    "amplitude_px": [1.5, 2.5],
}
OURS = {"corpus.json", ".synthetic-corpus"}


def _written(tmp_path_factory, layout):
    corpus = generate_corpus({**SMALL, "layout": layout})
    root = tmp_path_factory.mktemp(layout.replace("+", "_")) / "synthetic"
    corpus.write(root)
    return corpus, root


def _tree_bytes(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module", params=list(LAYOUTS))
def single_layout(request, tmp_path_factory):
    """(layout, corpus, root) of a small corpus written in one layout."""
    return request.param, *_written(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def casme2_and_mmew(tmp_path_factory):
    return _written(tmp_path_factory, "casme2+mmew")


def test_the_layouts_are_exactly_those_the_generated_reader_reads():
    assert list(LAYOUTS) == list(generated.READERS) == list(GENERATED_LAYOUTS)


def test_each_layout_is_read_back_by_its_reader_clip_for_clip(single_layout):
    layout, corpus, root = single_layout
    raw = read_source("synthetic", root)

    specs = {spec.clip_id: spec for spec in corpus.clips}
    assert sorted(clip.clip_id for clip in raw.clips) == sorted(specs)
    assert len(raw.clips) == 3 * 3
    assert corpus.datasets() == (["synthetic"] if layout == "casme2" else [f"synthetic_{layout}"])
    assert {clip.dataset for clip in raw.clips} == set(corpus.datasets())
    assert sorted({clip.subject for clip in raw.clips}) == corpus.subject_ids()
    for clip in raw.clips:
        spec = specs[clip.clip_id]
        assert (clip.onset, clip.offset) == (spec.onset, spec.offset)
        # SMIC codes no apex: its reader reports none.
        assert clip.apex == (None if layout == "smic" else spec.apex)
        assert [frame.number for frame in clip.frames] == list(spec.frame_numbers)
        assert all(frame.error is None and frame.width == 320 for frame in clip.frames)
        assert clip.ground_truth == str(root / spec.ground_truth_file)
        truth = load_ground_truth(clip.ground_truth)
        assert list(truth.frame_numbers) == list(spec.frame_numbers)
        assert truth.emotion == clip.emotion


def test_each_layout_is_labelled_as_planned_by_its_own_words(single_layout):
    layout, corpus, root = single_layout
    usable, rejected = triage(read_source("synthetic", root).clips, scheme_for("synthetic", 3))

    assert rejected == []
    scheme = scheme_for("synthetic", 3)
    labels = {spec.clip_id: spec.label for spec in corpus.clips}
    assert {clip.clip_id: scheme.label(clip.dataset, clip.emotion) for clip in usable} == labels


def test_each_layout_writes_only_its_own_names(single_layout):
    layout, corpus, root = single_layout
    expected = {*LAYOUTS[layout].top_level_names, GROUND_TRUTH_FOLDER, *OURS}
    assert set(os.listdir(root)) == expected
    assert list(corpus.sheets()) == ([LAYOUTS[layout].sheet_file] if layout != "smic" else [])


def test_mmew_counts_frames_from_one_and_casme3_names_clips_by_video_and_onset():
    mmew = generate_corpus({**SMALL, "layout": "mmew"})
    assert {clip.onset for clip in mmew.clips} == {1}
    casme3 = generate_corpus({**SMALL, "layout": "casme3"})
    assert {clip.onset for clip in casme3.clips} != {1}  # the sampled onset, as in CASME II
    for clip in casme3.clips:
        assert clip.clip_id == f"synthetic_casme3/{clip.subject_name}/{clip.filename}_{clip.onset}"
    assert sorted(c.filename for c in casme3.clips if c.subject == 1) == list("abc")


def test_a_two_layout_corpus_deals_subjects_to_its_parts(casme2_and_mmew):
    corpus, root = casme2_and_mmew
    raw = read_source("synthetic", root)

    assert corpus.datasets() == ["synthetic_casme2", "synthetic_mmew"]
    assert corpus.subject_ids() == [
        "synthetic_casme2/sub01", "synthetic_casme2/sub03", "synthetic_mmew/S02"]
    assert sorted({clip.subject for clip in raw.clips}) == corpus.subject_ids()
    assert [clip.dataset for clip in raw.clips] == ["synthetic_casme2"] * 6 + ["synthetic_mmew"] * 3
    assert set(os.listdir(root)) == {"casme2", "mmew", *OURS}
    assert all(clip.ground_truth is not None for clip in raw.clips)
    usable, rejected = triage(raw.clips, scheme_for("synthetic", 3))
    assert len(usable) == 9 and rejected == []


def test_casme2_alone_is_the_corpus_as_it_was(tmp_path):
    corpus = generate_corpus({**SMALL, "layout": "casme2"})
    assert corpus.datasets() == ["synthetic"]
    assert corpus.subject_ids() == ["synthetic/sub01", "synthetic/sub02", "synthetic/sub03"]
    assert corpus.clips[0].clip_folder.startswith("CASME2_RAW_selected/sub01/")
    assert list(corpus.sheets()) == ["CASME2-coding-20140508.xlsx"]
    assert generate_corpus(SMALL).clips == corpus.clips


def test_a_rewrite_in_other_layouts_cleans_the_previous_ones(casme2_and_mmew, tmp_path):
    corpus, first = casme2_and_mmew
    root = tmp_path / "synthetic"
    corpus.write(root)

    manifest = generate_corpus({**SMALL, "layout": "casme3"}).write(root)
    assert set(os.listdir(root)) == {*LAYOUTS["casme3"].top_level_names, GROUND_TRUTH_FOLDER,
                                     *OURS}
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == set(manifest["files"]) | OURS

    generate_corpus({**SMALL, "layout": "smic+samm"}).write(root)
    assert set(os.listdir(root)) == {"smic", "samm", *OURS}
    assert {c.dataset for c in read_source("synthetic", root).clips} == {
        "synthetic_smic", "synthetic_samm"}


@pytest.mark.parametrize("layout", ["casme3", "smic+mmew"])
def test_only_a_damaged_clip_is_rendered_again(layout, tmp_path, rendered_clips):
    corpus = generate_corpus({**SMALL, "layout": layout})
    root = tmp_path / "synthetic"
    corpus.write(root)
    original = _tree_bytes(root)
    rendered_clips.clear()
    corpus.write(root)
    assert rendered_clips == []

    damaged = corpus.clips[-1]
    frame = root / damaged.frame_file(damaged.apex)
    frame.write_bytes(frame.read_bytes()[:100])
    corpus.write(root)
    assert rendered_clips == [damaged.clip_id]
    assert _tree_bytes(root) == original
