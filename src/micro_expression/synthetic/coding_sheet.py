"""Coding sheets (``.xlsx``) of the generated corpus, written reproducibly."""

from __future__ import annotations

import datetime
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from micro_expression.synthetic.archive import normalised_zip

Row = tuple[Any, ...]
# CASME II's sheet is dated 2014-05-08; any fixed date keeps the bytes reproducible.
_SHEET_DATE = datetime.datetime(2014, 5, 8)


@dataclass(frozen=True)
class CodingSheet:
    """One worksheet: ``preamble`` rows above the ``header`` row, then one row per clip.

    ``None`` cells stay empty (pandas reads an unnamed header cell as ``Unnamed: <n>``).
    """

    header: Row
    rows: tuple[Row, ...]
    title: str = "Sheet1"
    preamble: tuple[Row, ...] = ()


def coding_sheet_bytes(sheet: CodingSheet) -> bytes:
    """xlsx bytes of ``sheet``, the same for the same sheet."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet.title
    for row in (*sheet.preamble, sheet.header, *sheet.rows):
        worksheet.append(list(row))
    # openpyxl stamps the current time unless both dates are set and the zip is re-packed.
    workbook.properties.created = _SHEET_DATE
    workbook.properties.modified = _SHEET_DATE
    buffer = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return normalised_zip(buffer.getvalue())
