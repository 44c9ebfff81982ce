"""Bad or awkward dataset trees, written for real, and what ingestion makes of each."""

import tracemalloc

import openpyxl
import pandas as pd
import pytest

from micro_expression.pipelines.ingestion.nodes import build_clip_index, check_clip_index
from micro_expression.readers import read_source
from micro_expression.readers.images import stable_message
from tests.readers.fixtures import (
    CASME2_CLIPS,
    SAMM_CLIPS,
    noise_image,
    write_casme2,
    write_garbage,
    write_jpeg,
    write_samm,
    write_sheet,
)

HAPPY, SURPRISED, DISGUSTED, REPRESSED, OTHERS = CASME2_CLIPS


def _params(**changes):
    return {"strict": False, **changes}


def _index(root, name="casme2", **params):
    return build_clip_index(read_source(name, root), _params(**params))


def _rejection(rejected, clip_id):
    (row,) = rejected[rejected.clip_id == clip_id].itertuples()
    return row


def _folder(root, clip):
    return root / "CASME2_RAW_selected" / f"sub{clip['subject']:02d}" / clip["filename"]


@pytest.mark.parametrize(
    ("extra", "first", "second"),
    [
        ("img011.jpg", "img011.jpg", "img11.jpg"),
        ("img11.jpeg", "img11.jpeg", "img11.jpg"),
        ("reg_img11.jpg", "img11.jpg", "reg_img11.jpg"),
    ],
)
def test_two_files_for_one_frame_number_reject_the_clip_naming_both(tmp_path, extra, first,
                                                                    second):
    write_casme2(tmp_path, [HAPPY, SURPRISED])
    write_jpeg(_folder(tmp_path, HAPPY) / extra, noise_image("copy", 11))

    index, rejected = _index(tmp_path)

    assert list(index.clip_id) == ["casme2/sub01/EP03_02"]
    row = _rejection(rejected, "casme2/sub01/EP02_01f")
    assert f"frame 11 is claimed by 2 files: {first} and {second}" in row.reason
    assert row.kind == "data fault"


def test_an_offset_typo_is_an_implausible_length_not_a_memory_blow_up(tmp_path):
    write_casme2(tmp_path, [HAPPY, {**SURPRISED, "offset": 1_000_000_000, "frames": [20, 21]}])

    tracemalloc.start()
    index, rejected = _index(tmp_path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert peak < 20 * 2**20  # bytes allocated while reading and checking the tree
    assert list(index.clip_id) == ["casme2/sub01/EP02_01f"]
    reason = _rejection(rejected, "casme2/sub01/EP03_02").reason
    assert reason == (
        "implausible clip length: onset 20 to offset 1000000000 spans 999999981 frames, more "
        "than ingestion.max_clip_frames=3000 (a typo in the sheet?)"
    )


def test_missing_frames_are_counted_from_the_files_present_within_a_raised_limit(tmp_path):
    write_casme2(tmp_path, [{**SURPRISED, "offset": 20_000_000, "frames": [20, 21, 25]}])

    tracemalloc.start()
    _, rejected = _index(tmp_path, max_clip_frames=10**9)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert peak < 20 * 2**20
    assert "19999978 of 19999981 frames missing between onset 20 and offset 20000000: 22-24, " \
        "26-20000000" in _rejection(rejected, "casme2/sub01/EP03_02").reason


def test_many_gaps_are_listed_up_to_ten_ranges(tmp_path):
    write_casme2(tmp_path, [{**SURPRISED, "offset": 60, "frames": range(20, 61, 3)}])

    _, rejected = _index(tmp_path)

    reason = _rejection(rejected, "casme2/sub01/EP03_02").reason
    assert "missing between onset 20 and offset 60: 21-22, 24-25" in reason
    assert "45-46, 48-49 and 4 more ranges (in" in reason


def test_an_undecodable_frame_has_the_same_reason_in_every_run(tmp_path):
    write_casme2(tmp_path, [HAPPY, SURPRISED])
    garbage = write_garbage(_folder(tmp_path, HAPPY) / "img10.jpg")

    first = _index(tmp_path)[1]
    second = _index(tmp_path)[1]

    assert first.equals(second)
    reason = _rejection(first, "casme2/sub01/EP02_01f").reason
    assert reason == f"unreadable image {garbage}: not an image PIL can identify"
    assert "0x" not in reason


def test_memory_addresses_never_reach_a_reason():
    error = ValueError("bad data in <PIL.JpegImagePlugin.JpegImageFile object at 0x7f00deadbeef>")
    assert "0x" not in stable_message(error)


@pytest.mark.parametrize(
    ("emotion", "reason"),
    [
        ("suprise", "unknown emotion 'suprise': casme2 codes happiness, surprise, disgust, "
                    "repression, others, fear, sadness"),
        ("", "the emotion cell is blank"),
    ],
)
def test_a_misspelt_or_blank_emotion_is_a_data_fault_that_strict_stops_on(tmp_path, emotion,
                                                                           reason):
    write_casme2(tmp_path, [HAPPY, {**SURPRISED, "emotion": emotion}, OTHERS])

    index, rejected = _index(tmp_path, strict=True)

    row = _rejection(rejected, "casme2/sub01/EP03_02")
    assert (row.reason, row.kind) == (reason, "data fault")
    assert _rejection(rejected, "casme2/sub03/EP07_01").kind == "scheme exclusion"
    with pytest.raises(ValueError, match="1 clips have data faults"):
        check_clip_index(index, rejected, _params(strict=True))


@pytest.mark.parametrize(
    ("apex", "note"),
    [
        (999_999_999, "apex 999999999 is outside onset..offset (9..12): apex ignored"),
        (8, "apex 8 is outside onset..offset (9..12): apex ignored"),
        (-3, "apex cell '-3' is not a frame number: apex ignored"),
        ("10a", "apex cell '10a' is not a frame number: apex ignored"),
        ("/", None),
        (11, None),
    ],
)
def test_an_apex_outside_the_clip_is_kept_null_with_the_reason(tmp_path, apex, note):
    write_casme2(tmp_path, [{**HAPPY, "apex": apex}])

    index, _ = _index(tmp_path)
    summary = check_clip_index(index, _index(tmp_path)[1], _params())

    row = index.iloc[0]
    if note is None:
        assert pd.isna(row.apex_note)
        assert (pd.isna(row.apex) if apex == "/" else row.apex == apex)
    else:
        assert row.apex_note == note and pd.isna(row.apex)
    assert summary["apex_ignored"] == (note is not None)


def test_frames_of_different_sizes_reject_the_clip_and_sizes_are_recorded(tmp_path):
    write_casme2(tmp_path, [HAPPY, SURPRISED])
    write_jpeg(_folder(tmp_path, HAPPY) / "img11.jpg", noise_image("small", 11, size=40))

    index, rejected = _index(tmp_path)

    assert list(index.clip_id) == ["casme2/sub01/EP03_02"]
    assert (index.frame_width.iloc[0], index.frame_height.iloc[0]) == (64, 64)
    reason = _rejection(rejected, "casme2/sub01/EP02_01f").reason
    assert reason == f"frames differ in size (40x40, 64x64) in {_folder(tmp_path, HAPPY)}"


def test_a_dangling_symlink_is_a_broken_link_not_a_missing_frame(tmp_path):
    write_casme2(tmp_path, [HAPPY, SURPRISED])
    frame = _folder(tmp_path, HAPPY) / "img11.jpg"
    frame.unlink()
    frame.symlink_to(tmp_path / "elsewhere" / "img11.jpg")

    _, rejected = _index(tmp_path)

    reason = _rejection(rejected, "casme2/sub01/EP02_01f").reason
    assert reason == (f"unreadable image {frame}: broken symbolic link to "
                      f"{tmp_path / 'elsewhere' / 'img11.jpg'} (the target does not exist)")
    assert "missing" not in reason


def test_an_unpadded_samm_subject_folder_is_named_with_what_is_there(tmp_path):
    write_samm(tmp_path, SAMM_CLIPS[:2])
    (tmp_path / "SAMM" / "006").rename(tmp_path / "SAMM" / "6")

    _, rejected = _index(tmp_path, name="samm")

    reason = _rejection(rejected, "samm/006/006_1_2").reason
    assert reason == (
        f"sheet row has no clip folder on disk: looked for {tmp_path / 'SAMM' / '006' / '006_1_2'}"
        f" (subject folders in {tmp_path / 'SAMM'}: 6)"
    )


def test_a_missing_clip_folder_lists_the_subject_s_clips(tmp_path):
    write_casme2(tmp_path, [HAPPY, {**SURPRISED, "filename": "EP03_2"}])
    _folder(tmp_path, {**SURPRISED, "filename": "EP03_2"}).rename(
        _folder(tmp_path, SURPRISED)
    )

    _, rejected = _index(tmp_path)

    assert rejected.reason.iloc[0].endswith(
        f"(clip folders in {_folder(tmp_path, HAPPY).parent}: EP02_01f, EP03_02)"
    )


def test_a_coding_sheet_on_a_second_worksheet_is_found(tmp_path):
    root = write_samm(tmp_path, SAMM_CLIPS[:2])
    sheet = root / "SAMM_Micro_FACS_Codes_v2.xlsx"
    workbook = openpyxl.load_workbook(sheet)
    cover = workbook.create_sheet("Read me", 0)
    cover["A1"] = "SAMM: see the next worksheet"
    workbook.save(sheet)

    index, _ = _index(tmp_path, name="samm")

    assert list(index.clip_id) == ["samm/006/006_1_2", "samm/006/006_1_3"]


def test_a_workbook_without_the_table_names_its_worksheets(tmp_path):
    write_sheet(tmp_path / "SAMM_Micro_FACS_Codes_v2.xlsx", ["Notes"], [["nothing here"]])
    (tmp_path / "SAMM").mkdir()

    with pytest.raises(ValueError, match=r"of any worksheet \('Sheet'\) holds the columns "
                                         r"\['Subject', 'Filename'\]"):
        read_source("samm", tmp_path)
