"""The CASME II coding sheet (``CASME2-coding-20140508.xlsx``), written reproducibly."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from micro_expression.synthetic.archive import normalised_zip

# The real sheet's header row; ``None`` cells are the two unnamed columns, which pandas
# reads as "Unnamed: 2" and "Unnamed: 6".
HEADER = (
    "Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
    "Action Units", "Estimated Emotion",
)  # fmt: skip
_SHEET_DATE = datetime.datetime(2014, 5, 8)


def coding_sheet_bytes(rows: Iterable[tuple[int, str, int, int, int, str, str]]) -> bytes:
    """xlsx bytes for ``(subject, filename, onset, apex, offset, action_units, emotion)`` rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(HEADER)
    for subject, filename, onset, apex, offset, action_units, emotion in rows:
        sheet.append([subject, filename, None, onset, apex, offset, None, action_units, emotion])
    # openpyxl stamps the current time unless both dates are set and the zip is re-packed.
    workbook.properties.created = _SHEET_DATE
    workbook.properties.modified = _SHEET_DATE
    buffer = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return normalised_zip(buffer.getvalue())
