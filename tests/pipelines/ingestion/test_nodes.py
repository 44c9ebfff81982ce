import dataclasses
import hashlib
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from micro_expression.lineage.tables import TRACKED_TABLES
from micro_expression.pipelines.ingestion.nodes import (
    CLIP_INDEX_COLUMNS,
    REJECTED_COLUMNS,
    build_clip_index,
    check_clip_index,
)
from micro_expression.readers import read_source
from micro_expression.synthetic import generate_corpus
from tests.readers.fixtures import (
    CASME2_CLIPS,
    noise_image,
    truncate_file,
    write_casme2,
    write_garbage,
    write_jpeg,
    write_samm,
    write_smic,
)

HAPPY, SURPRISED, DISGUSTED, REPRESSED, OTHERS = CASME2_CLIPS
GENERATED = {
    "seed": 11, "subjects": 1, "clips_per_class": 1, "frame_count": [8, 8],
    "image_size": [240, 320], "face_width_px": [125, 140],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(root, plan) of a small generated corpus, written once: tests copy it to change it."""
    corpus = generate_corpus(GENERATED)
    root = tmp_path_factory.mktemp("generated") / "synthetic"
    corpus.write(root)
    return root, corpus


def _params(strict=False):
    return {"strict": strict}


def _index(root, name="casme2", classes=3, **params):
    raw = dataclasses.replace(read_source(name, root), classes=classes)
    return build_clip_index(raw, _params(**params))


def _reason(rejected, clip_id):
    (reason,) = rejected.loc[rejected.clip_id == clip_id, "reason"]
    return reason


def _frames_folder(root, clip):
    return root / "CASME2_RAW_selected" / f"sub{clip['subject']:02d}" / clip["filename"]


def test_clip_index_has_one_labelled_row_per_usable_clip(tmp_path):
    write_casme2(tmp_path)

    index, rejected = _index(tmp_path)

    assert list(index.columns) == CLIP_INDEX_COLUMNS
    assert list(index.clip_id) == sorted(index.clip_id)
    assert list(index.clip_id) == [
        "casme2/sub01/EP02_01f", "casme2/sub01/EP03_02", "casme2/sub02/EP01_11f",
        "casme2/sub02/EP19_05f",
    ]
    assert list(index.label) == ["positive", "surprise", "negative", "negative"]
    assert list(index.label_id) == [1, 2, 0, 0]
    assert list(index.emotion) == ["happiness", "surprise", "disgust", "repression"]
    first = index.iloc[0]
    assert first.subject == "casme2/sub01" and first.dataset == "casme2"
    assert [p.rsplit("/", 1)[1] for p in first.frame_paths] == [
        "img9.jpg", "img10.jpg", "img11.jpg", "img12.jpg"
    ]
    assert first.n_frames == 4 and first.fps == 200.0
    assert (first.onset, first.apex, first.offset) == (9, 10, 12)
    assert index.apex.dtype == "Int64" and pd.isna(index.apex.iloc[1])
    assert index.onset.dtype == "int64" and index.label_id.dtype == "int64"
    assert index.ground_truth_path.dtype == "string"
    assert index.ground_truth_path.isna().all()  # a real dataset has no ground truth
    assert list(rejected.columns) == REJECTED_COLUMNS


def test_five_class_scheme_keeps_others(tmp_path):
    write_casme2(tmp_path)

    index, rejected = _index(tmp_path, classes=5)

    assert len(rejected) == 0
    assert dict(zip(index.emotion, index.label_id)) == {
        "happiness": 0, "surprise": 1, "disgust": 2, "repression": 3, "others": 4
    }


def test_frames_are_onset_to_offset_only(tmp_path):
    write_casme2(tmp_path, [{**HAPPY, "frames": range(7, 15)}])
    # a bad file outside onset..offset is not used, so it does not reject the clip
    write_garbage(_frames_folder(tmp_path, HAPPY) / "img14.jpg")

    index, _ = _index(tmp_path)

    assert index.n_frames.iloc[0] == 4
    assert index.frame_paths.iloc[0][0].endswith("img9.jpg")
    assert index.frame_paths.iloc[0][-1].endswith("img12.jpg")


def test_content_hash_is_over_the_frame_hashes_and_follows_a_changed_frame(tmp_path):
    write_casme2(tmp_path, [HAPPY])
    index, _ = _index(tmp_path)
    paths = index.frame_paths.iloc[0]
    digests = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths]
    assert index.content_hash.iloc[0] == hashlib.sha256("\n".join(digests).encode()).hexdigest()

    write_jpeg(_frames_folder(tmp_path, HAPPY) / "img11.jpg", noise_image("changed", 11))
    changed, _ = _index(tmp_path)

    assert changed.content_hash.iloc[0] != index.content_hash.iloc[0]


def test_every_bad_clip_is_rejected_with_its_reason(tmp_path):
    clips = [
        HAPPY,
        {**SURPRISED, "folder": False},
        {**DISGUSTED, "frames": [5, 6, 8]},
        REPRESSED,
        {**OTHERS, "emotion": "happiness"},
        {"subject": 4, "filename": "EP01_01", "onset": 1, "apex": 2, "offset": 3,
         "emotion": "fear"},
        {"subject": 5, "filename": "EP01_02", "onset": "/", "apex": 2, "offset": 3, "frames": [2],
         "emotion": "happiness"},
        {**HAPPY, "emotion": "surprise"},
    ]
    write_casme2(tmp_path, clips)
    truncated = truncate_file(_frames_folder(tmp_path, REPRESSED) / "img31.jpg")
    garbage = write_garbage(_frames_folder(tmp_path, OTHERS) / "img4.jpg")
    sheet = tmp_path / "CASME2-coding-20140508.xlsx"

    index, rejected = _index(tmp_path)

    assert list(index.clip_id) == ["casme2/sub01/EP02_01f"]
    assert list(rejected.columns) == REJECTED_COLUMNS
    assert len(rejected) == len(clips) - 1
    expected = _frames_folder(tmp_path, SURPRISED)
    assert f"no clip folder on disk: looked for {expected}" in _reason(
        rejected, "casme2/sub01/EP03_02"
    )
    assert "1 of 4 frames missing between onset 5 and offset 8: 7" in _reason(
        rejected, "casme2/sub02/EP01_11f"
    )
    assert f"unreadable image {truncated}" in _reason(rejected, "casme2/sub02/EP19_05f")
    assert "truncated" in _reason(rejected, "casme2/sub02/EP19_05f")
    assert f"unreadable image {garbage}" in _reason(rejected, "casme2/sub03/EP07_01")
    assert "normal exclusion under the 3-class scheme" in _reason(rejected, "casme2/sub04/EP01_01")
    assert "onset/offset do not give a frame range" in _reason(rejected, "casme2/sub05/EP01_02")
    duplicate = rejected[rejected.clip_id == "casme2/sub01/EP02_01f"].iloc[0]
    assert duplicate.source == f"{sheet} row 9"
    assert duplicate.reason == f"duplicate clip: already described by {sheet} row 2"


def test_gap_reason_names_ranges_of_missing_frames(tmp_path):
    write_casme2(tmp_path, [HAPPY, {**DISGUSTED, "offset": 20, "frames": [5, 9, 10, 20]}])

    _, rejected = _index(tmp_path)

    assert "missing between onset 5 and offset 20: 6-8, 11-19" in _reason(
        rejected, "casme2/sub02/EP01_11f"
    )


def test_strict_mode_stops_after_the_tables_listing_the_data_faults(tmp_path):
    write_casme2(tmp_path, [HAPPY, {**SURPRISED, "folder": False}, OTHERS])
    index, rejected = _index(tmp_path, strict=True)  # the tables are still produced

    with pytest.raises(ValueError) as error:
        check_clip_index(index, rejected, _params(strict=True))

    message = str(error.value)
    assert "rejected_clips" in message
    assert "casme2/sub01/EP03_02" in message and "no clip folder" in message
    # 'others' is excluded by the 3-class scheme, not a fault in the data
    assert "EP07_01" not in message


def test_strict_mode_passes_with_only_scheme_exclusions(tmp_path):
    write_casme2(tmp_path, [HAPPY, OTHERS])

    index, rejected = _index(tmp_path, strict=True)
    summary = check_clip_index(index, rejected, _params(strict=True))

    assert list(index.clip_id) == ["casme2/sub01/EP02_01f"]
    assert list(rejected.clip_id) == ["casme2/sub03/EP07_01"]
    assert list(rejected.kind) == ["scheme exclusion"]
    assert summary == {
        "ingestion_id": index.attrs["ingestion_id"], "clips": 1, "subjects": 1,
        "labels": {"positive": 1}, "rejected": {"scheme exclusion": 1}, "apex_ignored": 0,
    }


def test_an_empty_index_stops_the_check_pointing_at_the_rejections(tmp_path):
    write_casme2(tmp_path, [OTHERS])
    index, rejected = _index(tmp_path)

    assert index.empty and len(rejected) == 1
    with pytest.raises(ValueError, match=r"No usable clip: all 1 clips were rejected, e\.g\. "
                                         r"casme2/sub03/EP07_01: emotion 'others'.*rejected_clips"):
        check_clip_index(index, rejected, _params())


def test_both_tables_carry_one_ingestion_id_that_follows_their_content(tmp_path):
    write_casme2(tmp_path)
    index, rejected = _index(tmp_path)
    again, _ = _index(tmp_path)

    assert index.attrs["ingestion_id"] == rejected.attrs["ingestion_id"]
    assert again.attrs["ingestion_id"] == index.attrs["ingestion_id"]
    write_jpeg(_frames_folder(tmp_path, HAPPY) / "img11.jpg", noise_image("changed", 11))
    changed, _ = _index(tmp_path)
    assert changed.attrs["ingestion_id"] != index.attrs["ingestion_id"]


def test_generated_clips_name_their_ground_truth_file(generated):
    root, corpus = generated

    index, rejected = _index(root, name="synthetic")

    assert rejected.empty
    expected = {
        clip.clip_id: str(root / clip.ground_truth_file)
        for clip in corpus.clips
    }
    assert dict(zip(index.clip_id, index.ground_truth_path)) == expected
    assert all(Path(path).is_file() for path in index.ground_truth_path)


def test_a_clip_without_its_ground_truth_file_is_kept_and_named(generated, tmp_path, caplog):
    root, corpus = generated
    copy = shutil.copytree(root, tmp_path / "synthetic")
    lost = corpus.clips[1]
    (copy / lost.ground_truth_file).unlink()
    lost_id = lost.clip_id

    with caplog.at_level(logging.WARNING, logger="micro_expression.readers"):
        index, _ = _index(copy, name="synthetic")

    truths = index.set_index("clip_id").ground_truth_path
    assert len(truths) == len(corpus.clips)
    assert pd.isna(truths[lost_id]) and truths.drop(lost_id).notna().all()
    [warning] = [r.getMessage() for r in caplog.records if "ground-truth" in r.getMessage()]
    assert f"1 of {len(corpus.clips)} clips" in warning and warning.endswith(lost_id)


def test_ground_truth_locations_are_not_content(generated, tmp_path):
    root, _ = generated
    index, _ = _index(root, name="synthetic")
    moved, _ = _index(shutil.copytree(root, tmp_path / "moved"), name="synthetic")

    assert (moved.ground_truth_path != index.ground_truth_path).all()
    assert moved.attrs["ingestion_id"] == index.attrs["ingestion_id"]
    digest = TRACKED_TABLES["clip_index"].digest
    assert digest(moved) == digest(index)


def test_ingestion_parameters_do_not_choose_the_data(tmp_path):
    # The data is chosen once, by the raw_dataset entry (globals.yml `dataset`): a dataset key
    # in the ingestion parameters is refused by name instead of silently disagreeing.
    write_casme2(tmp_path, [HAPPY])

    with pytest.raises(ValueError, match=r"unknown ingestion parameters: \['name'\]"):
        build_clip_index(read_source("casme2", tmp_path), {"name": "samm"})
    with pytest.raises(ValueError, match="ingestion.max_clip_frames must be an integer"):
        build_clip_index(read_source("casme2", tmp_path), {"max_clip_frames": "many"})


def test_composite_maps_each_dataset_to_three_classes(tmp_path):
    roots = {
        "casme2": write_casme2(tmp_path / "c"),
        "samm": write_samm(tmp_path / "s"),
        "smic": write_smic(tmp_path / "m"),
    }

    index, rejected = build_clip_index(read_source("composite", roots=roots), _params())

    labels = dict(zip(index.clip_id, index.label))
    assert labels["samm/006/006_1_2"] == "negative"  # Anger
    assert labels["samm/007/007_3_1"] == "negative"  # Contempt
    assert labels["casme2/sub02/EP19_05f"] == "negative"  # repression
    assert labels["smic/s2/s2_po_01"] == "positive"
    assert set(rejected.clip_id) == {"casme2/sub03/EP07_01", "samm/007/007_6_1"}
    assert set(index.dataset) == {"casme2", "samm", "smic"}
    assert dict(index.groupby("dataset").fps.first()) == {
        "casme2": 200.0, "samm": 200.0, "smic": 100.0
    }
    assert index.loc[index.dataset == "smic", "apex"].isna().all()
    assert index.ground_truth_path.isna().all()


def test_samm_five_classes(tmp_path):
    write_samm(tmp_path)

    index, rejected = _index(tmp_path, name="samm", classes=5)

    assert list(index.label) == ["anger", "happiness", "contempt", "surprise", "other"]
    assert list(index.label_id) == [2, 0, 3, 1, 4]
    assert len(rejected) == 0


def test_smic_clip_without_frames_is_rejected(tmp_path):
    write_smic(tmp_path, [{"subject": 1, "emotion": "negative", "index": 1, "first": 5,
                           "n_frames": 3},
                          {"subject": 1, "emotion": "surprise", "index": 2, "frames": []}])

    index, rejected = _index(tmp_path, name="smic")

    assert list(index.clip_id) == ["smic/s1/s1_ne_01"]
    assert "no frame files in" in _reason(rejected, "smic/s1/s1_sur_02")
