import pytest

from micro_expression.readers.casme2 import read_casme2
from tests.readers.fixtures import CASME2_CLIPS, write_casme2


def test_reads_every_sheet_row_with_prefixed_ids_and_numeric_frame_order(tmp_path):
    write_casme2(tmp_path)

    clips = read_casme2(tmp_path)

    assert [c.clip_id for c in clips] == [
        f"casme2/sub{c['subject']:02d}/{c['filename']}" for c in CASME2_CLIPS
    ]
    first = clips[0]
    assert first.subject == "casme2/sub01"
    assert first.dataset == "casme2"
    assert first.source == f"{tmp_path / 'CASME2-coding-20140508.xlsx'} row 2"
    assert first.folder == str(tmp_path / "CASME2_RAW_selected" / "sub01" / "EP02_01f")
    assert (first.onset, first.apex, first.offset) == (9, 10, 12)
    assert first.emotion == "happiness"
    assert first.fps == 200.0
    assert [f.number for f in first.frames] == [9, 10, 11, 12]
    assert [f.path.rsplit("/", 1)[1] for f in first.frames][:2] == ["img9.jpg", "img10.jpg"]
    assert all(f.error is None for c in clips for f in c.frames)


def test_a_non_numeric_apex_cell_is_none(tmp_path):
    write_casme2(tmp_path)

    clip = read_casme2(tmp_path)[1]

    assert clip.apex is None
    assert (clip.onset, clip.offset) == (20, 23)


def test_a_row_without_folder_has_folder_none(tmp_path):
    write_casme2(tmp_path, CASME2_CLIPS[:1] + [{**CASME2_CLIPS[1], "folder": False}])

    clips = read_casme2(tmp_path)

    assert clips[1].folder is None
    assert clips[1].frames == ()


def test_subject_folders_directly_in_root_and_another_sheet_version(tmp_path):
    write_casme2(tmp_path, frames_folder=None, sheet_name="CASME2-coding-20130615.xlsx")

    clips = read_casme2(tmp_path, dataset="synthetic")

    assert clips[0].folder == str(tmp_path / "sub01" / "EP02_01f")
    assert clips[0].clip_id == "synthetic/sub01/EP02_01f"
    assert clips[0].source.startswith(str(tmp_path / "CASME2-coding-20130615.xlsx"))
    assert len(clips[0].frames) == 4


def test_missing_sheet_names_the_sheets_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"CASME2-coding-20140508\.xlsx.*CASME2-coding-\*"):
        read_casme2(tmp_path)


def test_sheet_without_rows_is_an_empty_dataset(tmp_path):
    write_casme2(tmp_path, clips=[])

    with pytest.raises(ValueError, match=r"Empty dataset: .*CASME2-coding-20140508\.xlsx"):
        read_casme2(tmp_path)
