import pytest

from micro_expression.readers.samm import read_samm
from tests.readers.fixtures import SAMM_CLIPS, write_samm


@pytest.mark.parametrize("nested", [True, False], ids=["root/SAMM/...", "root/..."])
def test_reads_rows_below_the_preamble_in_both_layouts(tmp_path, nested):
    write_samm(tmp_path, nested=nested)

    clips = read_samm(tmp_path)

    assert [c.clip_id for c in clips] == [
        f"samm/{c['subject']:03d}/{c['filename']}" for c in SAMM_CLIPS
    ]
    first = clips[0]
    assert first.subject == "samm/006"
    assert first.source == f"{tmp_path / 'SAMM_Micro_FACS_Codes_v2.xlsx'} row 15"
    frames_root = tmp_path / "SAMM" if nested else tmp_path
    assert first.folder == str(frames_root / "006" / "006_1_2")
    assert (first.onset, first.apex, first.offset) == (5562, 5563, 5565)
    assert [f.number for f in first.frames] == [5562, 5563, 5564, 5565]
    assert first.frames[0].path.endswith("006_05562.jpg")
    assert [c.emotion for c in clips] == [c["emotion"] for c in SAMM_CLIPS]
    assert all(f.error is None for c in clips for f in c.frames)


def test_sheet_inside_the_samm_folder_is_found(tmp_path):
    write_samm(tmp_path / "SAMM", nested=False)

    assert len(read_samm(tmp_path)) == len(SAMM_CLIPS)


def test_sheet_with_the_header_row_missing(tmp_path):
    from tests.readers.fixtures import write_sheet

    (tmp_path / "SAMM").mkdir()
    write_sheet(tmp_path / "SAMM_Micro_FACS_Codes_v2.xlsx", ["Title only"], [["x"]])

    with pytest.raises(ValueError, match=r"Header row not found in .*SAMM_Micro_FACS_Codes_v2"):
        read_samm(tmp_path)
