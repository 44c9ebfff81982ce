import pytest

from micro_expression.readers.sheets import find_sheet, frame_number, read_sheet, text
from tests.readers.fixtures import write_sheet


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(46, 46), (46.0, 46), ("46", 46), (" 7 ", 7), (0, 0), ("/", None), (None, None),
     (float("nan"), None), ("", None), (-1, None), (12.5, None), ("n/a", None), (True, None)],
)
def test_frame_number(cell, expected):
    assert frame_number(cell) == expected


def test_text_drops_the_float_suffix_of_whole_numbers():
    assert text(6.0) == "6"
    assert text(" Happiness ") == "Happiness"
    assert text(None) == ""


def test_read_sheet_finds_the_header_below_a_preamble_and_numbers_rows_as_excel(tmp_path):
    sheet = write_sheet(
        tmp_path / "s.xlsx",
        ["Subject", "Filename", "Onset Frame"],
        [[6, "006_1_2", 5562], [None, None, None], [7, "007_3_1", 40]],
        preamble=[["Title"], [], ["Subject and Filename are explained below"]],
        header_row=14,
    )

    rows = read_sheet(sheet, ["Subject", "Filename", "OnsetFrame"])

    assert [r.number for r in rows] == [15, 17]
    assert rows[0].cells == {"Subject": 6, "Filename": "006_1_2", "OnsetFrame": 5562}


def test_read_sheet_without_a_header_row_names_the_file(tmp_path):
    sheet = write_sheet(tmp_path / "s.xlsx", ["Name", "Clip"], [["a", "b"]])

    with pytest.raises(ValueError, match=r"Header row not found in .*s\.xlsx"):
        read_sheet(sheet, ["Subject", "Filename"])


def test_read_sheet_lists_expected_and_found_columns(tmp_path):
    sheet = write_sheet(tmp_path / "s.xlsx", ["Subject", "Filename", "Onset"], [[1, "a", 2]])

    with pytest.raises(ValueError) as error:
        read_sheet(sheet, ["Subject", "Filename", "OnsetFrame", "Estimated Emotion"])

    message = str(error.value)
    assert "s.xlsx" in message
    assert "missing ['OnsetFrame', 'Estimated Emotion']" in message
    assert "found ['Subject', 'Filename', 'Onset']" in message


def test_a_damaged_sheet_is_named(tmp_path):
    sheet = tmp_path / "CASME2-coding-20140508.xlsx"
    sheet.write_bytes(b"not a zip file")

    with pytest.raises(ValueError, match=r"Cannot read coding sheet .*CASME2-coding-20140508"):
        read_sheet(sheet, ["Subject", "Filename"])


def test_find_sheet_prefers_the_known_name_then_the_last_version(tmp_path):
    for name in ("CASME2-coding-20130101.xlsx", "CASME2-coding-20140101.xlsx"):
        write_sheet(tmp_path / name, ["Subject"], [])
    assert find_sheet([tmp_path], "CASME2-coding-20140508.xlsx", "CASME2-coding-*.xlsx").name == (
        "CASME2-coding-20140101.xlsx"
    )
    write_sheet(tmp_path / "CASME2-coding-20140508.xlsx", ["Subject"], [])
    assert find_sheet([tmp_path], "CASME2-coding-20140508.xlsx", "CASME2-coding-*.xlsx").name == (
        "CASME2-coding-20140508.xlsx"
    )


def test_find_sheet_lists_the_names_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        find_sheet([tmp_path], "CASME2-coding-20140508.xlsx", "CASME2-coding-*.xlsx")

    message = str(error.value)
    assert "CASME2-coding-20140508.xlsx" in message and "CASME2-coding-*.xlsx" in message
    assert str(tmp_path) in message
