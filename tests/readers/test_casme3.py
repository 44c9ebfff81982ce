import logging
import shutil

import numpy as np
import pytest

from micro_expression.preprocessing.apex import sheet_apex_index
from micro_expression.readers import read_source
from micro_expression.readers.casme3 import DAMAGED_LIST, POOR_QUALITY_LIST, read_casme3
from micro_expression.readers.validation import apex_note
from tests.readers.fixtures import (
    CASME3_CLIPS,
    CASME3_HEADER,
    CASME3_SHEET,
    rejection_reasons,
    sheet_clip,
    sheet_fields,
    write_casme3,
    write_sheet,
)

SHEET_ROW = sheet_clip("spNO.1", "a", 9, 10, 12, "happy")


def test_reads_each_row_as_a_clip_named_by_video_letter_and_onset(tmp_path):
    write_casme3(tmp_path)

    clips = read_casme3(tmp_path)

    assert [c.clip_id for c in clips] == [
        "casme3/spNO.1/a_9", "casme3/spNO.1/a_30", "casme3/spNO.1/b_14",
        "casme3/spNO.2/c_20", "casme3/spNO.2/d_40",
    ]
    first = clips[0]
    assert sheet_fields(first) == {
        "subject": "casme3/spNO.1", "source": f"{tmp_path / CASME3_SHEET} row 2",
        "folder": str(tmp_path / "spNO.1" / "a" / "color"),
        "onset": 9, "apex": 10, "offset": 12, "fps": 30.0,
    }
    # The video folder is shared: every frame of video a is listed, in numeric order.
    assert [f.number for f in first.frames] == [9, 10, 11, 12, 30, 31, 32]
    assert all(f.path.endswith(".jpg") for c in clips for f in c.frames)  # depth not read
    assert [c.emotion for c in clips] == [c["emotion"] for c in CASME3_CLIPS]
    assert rejection_reasons(clips) == {
        "casme3/spNO.2/d_40": "emotion 'Others' is not in the 3-class casme3 scheme (negative, "
        "positive, surprise): a normal exclusion under the 3-class scheme",
    }


def test_registered_as_dataset_casme3(tmp_path):
    write_casme3(tmp_path)

    raw = read_source("casme3", tmp_path)

    assert raw.name == "casme3" and len(raw.clips) == len(CASME3_CLIPS)


def test_sheet_in_annotation_numeric_subject_and_upper_case_letter(tmp_path):
    write_casme3(tmp_path, [{**SHEET_ROW, "subject": "spNO.3", "filename": "j"}],
                 sheet_folder="annotation")
    write_sheet(tmp_path / "annotation" / CASME3_SHEET, CASME3_HEADER,
                [[3, "J", 9, 10, 12, "AU12", "1", "happy"]], title="label")

    (clip,) = read_casme3(tmp_path)

    assert clip.clip_id == "casme3/spNO.3/j_9"
    assert clip.folder == str(tmp_path / "spNO.3" / "j" / "color")
    assert len(clip.frames) == 4


def test_onset_equal_to_apex_keeps_the_apex_which_preprocessing_treats_as_absent(tmp_path):
    write_casme3(tmp_path)

    clip = read_casme3(tmp_path)[1]

    assert clip.onset == clip.apex == 30
    assert apex_note(clip) is None
    assert sheet_apex_index(np.array([30, 31, 32]), clip.apex) is None


def test_a_sheet_version_with_other_columns_lists_the_columns_found(tmp_path):
    header = [h if h != "emotion" else "Emotion class" for h in CASME3_HEADER]
    write_sheet(tmp_path / CASME3_SHEET, header, [["spNO.1", "a", 9, 10, 12, "", "", "happy"]])

    with pytest.raises(ValueError, match=r"missing \['emotion'\].*found \[.*'Emotion class'\]"):
        read_casme3(tmp_path)


def test_missing_sheet_names_the_sheets_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=r"cas\(me\)3_part_A_ME_label_JpgIndex_v2.*annotation"):
        read_casme3(tmp_path)


def test_lost_first_frames_reject_a_clip_naming_them(tmp_path):
    write_casme3(tmp_path, [{**SHEET_ROW, "frames": [11, 12]}])

    reasons = rejection_reasons(read_casme3(tmp_path))

    assert reasons == {"casme3/spNO.1/a_9": "2 of 4 frames missing between onset 9 and offset "
                       f"12: 9-10 (in {tmp_path / 'spNO.1' / 'a' / 'color'})"}


def test_a_video_without_colour_folder_names_what_it_holds(tmp_path):
    write_casme3(tmp_path, [SHEET_ROW])
    shutil.rmtree(tmp_path / "spNO.1" / "a" / "color")

    (clip,) = read_casme3(tmp_path)

    assert clip.folder is None
    assert rejection_reasons([clip])["casme3/spNO.1/a_9"] == (
        f"sheet row has no clip folder on disk: looked for {tmp_path / 'spNO.1/a/color'} "
        f"({tmp_path / 'spNO.1/a'} has no color/ folder; it holds: depth)"
    )


def test_a_listed_damaged_frame_rejects_its_clip_naming_frame_and_list(tmp_path):
    write_casme3(tmp_path, [SHEET_ROW, {**SHEET_ROW, "filename": "b"}])
    (tmp_path / DAMAGED_LIST).write_text("spNO.1/b/color/40.jpg\nspNO.1\\a\\color\\10.jpg\n")

    reasons = rejection_reasons(read_casme3(tmp_path))

    frame = tmp_path / "spNO.1" / "a" / "color" / "10.jpg"
    assert reasons == {"casme3/spNO.1/a_9":
                       f"unreadable image {frame}: listed as damaged in "
                       f"{tmp_path / DAMAGED_LIST} line 2"}


def test_a_poor_quality_frame_keeps_its_clip_and_is_logged(tmp_path, caplog):
    write_casme3(tmp_path, [SHEET_ROW])
    (tmp_path / POOR_QUALITY_LIST).write_text("spNO.1 a 11\nspNO.1 a 200\n")

    with caplog.at_level(logging.WARNING, "micro_expression.readers.casme3"):
        clips = read_casme3(tmp_path)

    assert rejection_reasons(clips) == {}
    assert caplog.messages == [
        f"casme3/spNO.1/a_9: kept with frames listed as poor quality: 11 "
        f"({tmp_path / POOR_QUALITY_LIST} line 1)"
    ]


def test_a_list_line_naming_no_frame_is_an_error_naming_file_and_line(tmp_path):
    write_casme3(tmp_path, [SHEET_ROW])
    (tmp_path / DAMAGED_LIST).write_text("spNO.1/a/color/10.jpg\n\nsee the release notes\n")

    with pytest.raises(ValueError, match=rf"{DAMAGED_LIST} line 3: 'see the release notes' names"):
        read_casme3(tmp_path)


def test_an_emotion_casme3_does_not_code_is_a_data_fault(tmp_path):
    write_casme3(tmp_path, [{**SHEET_ROW, "emotion": "happiness"}])

    reasons = rejection_reasons(read_casme3(tmp_path), classes=7)

    assert reasons["casme3/spNO.1/a_9"].startswith("unknown emotion 'happiness': casme3 codes")
