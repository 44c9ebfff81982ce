import pytest

from micro_expression.readers import read_source
from micro_expression.readers.labels import scheme_for
from micro_expression.readers.mmew import read_mmew
from tests.readers.fixtures import (
    MMEW_CLIPS,
    MMEW_HEADER,
    MMEW_SHEET,
    rejection_reasons,
    sheet_clip,
    sheet_fields,
    write_mmew,
    write_sheet,
)

ROW = sheet_clip("S01", "S01-01-001", 1, 2, 4, "fear")


def test_reads_each_row_from_its_emotion_folder(tmp_path):
    write_mmew(tmp_path)

    clips = read_mmew(tmp_path)

    assert [c.clip_id for c in clips] == [
        f"mmew/{c['subject']}/{c['filename']}" for c in MMEW_CLIPS
    ]
    first = clips[0]
    assert sheet_fields(first) == {
        "subject": "mmew/S01", "source": f"{tmp_path / MMEW_SHEET} row 2",
        "folder": str(tmp_path / "Micro_Expression" / "happiness" / "S01-01-001"),
        "onset": 1, "apex": 6, "offset": 11, "fps": 90.0,
    }
    assert [f.number for f in first.frames] == list(range(1, 12))
    assert rejection_reasons(clips) == {
        "mmew/S02/S02-03-001": "emotion 'others' is not in the 3-class mmew scheme (negative, "
        "positive, surprise): a normal exclusion under the 3-class scheme",
    }
    assert rejection_reasons(clips, classes=7) == {}


def test_registered_as_dataset_mmew_with_emotion_folders_directly_in_root(tmp_path):
    write_mmew(tmp_path / "release")
    (tmp_path / "release" / "Micro_Expression").rename(tmp_path / "MMEW")
    (tmp_path / "release" / MMEW_SHEET).rename(tmp_path / "MMEW" / MMEW_SHEET)

    raw = read_source("mmew", tmp_path / "MMEW")

    assert raw.name == "mmew" and len(raw.clips) == len(MMEW_CLIPS)
    assert raw.clips[0].folder == str(tmp_path / "MMEW" / "happiness" / "S01-01-001")


def test_a_clip_in_another_emotion_folder_names_what_is_there(tmp_path):
    write_mmew(tmp_path, [{**ROW, "folder_emotion": "sadness"}])

    (clip,) = read_mmew(tmp_path)

    emotions = tmp_path / "Micro_Expression"
    assert rejection_reasons([clip]) == {"mmew/S01/S01-01-001": (
        f"sheet row has no clip folder on disk: looked for {emotions / 'fear' / 'S01-01-001'} "
        f"(emotion folders in {emotions}: sadness)"
    )}


def test_missing_frames_and_a_misspelt_emotion_are_data_faults(tmp_path):
    write_mmew(tmp_path, [{**ROW, "frames": [1, 2, 4]},
                          {**ROW, "filename": "S01-01-002", "emotion": "happy"}])

    reasons = rejection_reasons(read_mmew(tmp_path))

    folder = tmp_path / "Micro_Expression" / "fear" / "S01-01-001"
    assert reasons["mmew/S01/S01-01-001"] == (
        f"1 of 4 frames missing between onset 1 and offset 4: 3 (in {folder})"
    )
    assert reasons["mmew/S01/S01-01-002"].startswith("unknown emotion 'happy': mmew codes")


def test_a_sheet_version_with_other_columns_lists_the_columns_found(tmp_path):
    header = [h if h != "OffsetFrame" else "EndFrame" for h in MMEW_HEADER]
    write_sheet(tmp_path / MMEW_SHEET, header, [["S01", "S01-01-001", 1, 2, 4, "", "fear", ""]])

    with pytest.raises(ValueError, match=r"missing \['OffsetFrame'\].*found \[.*'EndFrame'"):
        read_mmew(tmp_path)


def test_sheet_without_rows_is_an_empty_dataset(tmp_path):
    write_mmew(tmp_path, clips=[])

    with pytest.raises(ValueError, match=r"Empty dataset: .*MMEW_Micro_Exp\.xlsx"):
        read_mmew(tmp_path)


@pytest.mark.parametrize(("classes", "labels"), [
    (3, {"sadness": "negative", "anger": "negative", "happiness": "positive", "others": None}),
    (4, {"fear": "negative", "surprise": "surprise", "Others": "others"}),
    (7, {"sadness": "sadness", "others": "others"}),
])
def test_mmew_schemes(classes, labels):
    scheme = scheme_for("mmew", classes)

    assert len(scheme.classes) == classes
    assert {emotion: scheme.label("mmew", emotion) for emotion in labels} == labels
