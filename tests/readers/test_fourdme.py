import pytest

from micro_expression.readers import read_source
from micro_expression.readers.fourdme import read_4dme
from micro_expression.readers.labels import scheme_for
from tests.readers.fixtures import (
    FOURDME_CLIPS,
    FOURDME_HEADER,
    FOURDME_SHEET,
    fourdme_clip,
    rejection_reasons,
    sheet_fields,
    write_4dme,
)


def test_reads_each_row_with_its_frames_numbered_by_the_last_digits_of_their_names(tmp_path):
    write_4dme(tmp_path)

    clips = read_4dme(tmp_path)

    assert [c.clip_id for c in clips] == [
        f"4dme/{c['subject']}/{c['filename']}" for c in FOURDME_CLIPS
    ]
    first = clips[0]
    assert sheet_fields(first) == {
        "subject": "4dme/S01", "source": f"{tmp_path / FOURDME_SHEET} row 2",
        "folder": str(tmp_path / "gray_micro" / "S01" / "S01_1st_001"),
        "onset": 9, "apex": 10, "offset": 12, "fps": None,
    }
    assert [f.number for f in first.frames] == [9, 10, 11, 12]
    assert [c.emotion for c in clips] == ["positive", "negative+repression",
                                          "positive+surprise", "surprise"]


def test_a_clip_coded_with_several_emotions_has_a_class_only_when_they_share_one(tmp_path):
    write_4dme(tmp_path)
    clips = read_4dme(tmp_path)

    assert rejection_reasons(clips) == {
        "4dme/S02/S02_2nd_001": "emotion 'positive+surprise' is not in the 3-class 4dme scheme "
        "(negative, positive, surprise): a normal exclusion under the 3-class scheme",
    }
    three = scheme_for("4dme", 3)
    assert three.label("4dme", "negative+repression") == "negative"
    assert three.label("4dme", "negative+others") is None
    assert scheme_for("4dme", 4).label("4dme", "others") == "others"
    assert scheme_for("4dme", 5).label("4dme", "repression") == "repression"
    # A multi-label clip is excluded under the 5-class scheme too: it has no one emotion.
    assert "4dme/S01/S01_1st_002" in rejection_reasons(clips, classes=5)


def test_rows_without_an_emotion_or_with_a_cell_that_is_not_a_flag_are_data_faults(tmp_path):
    write_4dme(tmp_path, [
        fourdme_clip("S03", "S03_1st_001", 5, 6, 8),
        {**fourdme_clip("S03", "S03_1st_002", 5, 6, 8, "Surprise"), "cells": {"Others": "x"}},
    ])

    reasons = rejection_reasons(read_4dme(tmp_path))

    assert reasons["4dme/S03/S03_1st_001"] == "the emotion cell is blank"
    assert reasons["4dme/S03/S03_1st_002"].startswith(
        "unknown emotion 'surprise+Others=x': 4dme codes positive, negative, surprise, "
        "repression, others")


def test_a_sheet_without_the_emotion_columns_names_what_it_found(tmp_path):
    write_4dme(tmp_path, header=[c for c in FOURDME_HEADER if c != "Repression"])

    with pytest.raises(ValueError, match=r"missing \['Repression'\].*found \['fold', 'sub_ID'"):
        read_4dme(tmp_path)


def test_registered_as_dataset_4dme_with_the_sheet_beside_the_subject_folders(tmp_path):
    write_4dme(tmp_path / "release")
    (tmp_path / "release" / FOURDME_SHEET).rename(tmp_path / "release" / "gray_micro"
                                                  / FOURDME_SHEET)

    raw = read_source("4dme", tmp_path / "release")

    assert raw.name == "4dme" and len(raw.clips) == len(FOURDME_CLIPS)
