"""Issue #22, item 7: spreadsheet bombs in the staff import are refused with a clear message, by what the
file holds rather than its size, and reading them stays small (peak memory measured in a subprocess)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from bench.import_bombs import measure, shared_string_bomb, without_dimension, xfd_bomb
from core.errors import DomainError
from outreach import imports
from outreach.models import ImportBatch

from .test_imports import VILLAGER_HEADER, good_villagers, importer, trades, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def bombs():
    return {
        "xfd": xfd_bomb(),
        "xfd_undeclared": without_dimension(xfd_bomb()),
        "shared_string": shared_string_bomb(300),
    }


def _refusal(data: bytes, filename: str = "bomb.xlsx") -> str:
    with pytest.raises(DomainError) as info:
        imports.read_rows(kind="villagers", data=data, filename=filename)
    assert info.value.field == "file"
    return info.value.message


def test_the_bombs_are_small_files(bombs):
    assert all(len(data) < 400 * 1024 for data in bombs.values())


def test_a_cell_in_column_xfd_is_refused_from_the_declared_dimension(bombs):
    assert "16384列" in _refusal(bombs["xfd"])


def test_an_undeclared_sheet_is_bounded_while_reading(bombs):
    # No <dimension>: openpyxl cannot know the width; the reader cuts every row one column past the cap
    # (the lone XFD cell is never materialised) and finds only the header.
    assert "没有数据行" in _refusal(bombs["xfd_undeclared"])


def test_a_cell_past_the_column_cap_is_refused_even_when_the_dimension_lies():
    book = Workbook()
    sheet = book.active
    sheet.append(VILLAGER_HEADER)
    sheet.append(["张大山", "13812340001"])
    sheet.cell(row=2, column=51, value="藏在第51列")
    out = io.BytesIO()
    book.save(out)
    data = without_dimension(out.getvalue())
    assert "第2行超过了50列" in _refusal(data)


def test_the_huge_shared_string_is_refused_before_openpyxl_opens_the_file(bombs, monkeypatch):
    def must_not_open(*args, **kwargs):
        raise AssertionError("openpyxl opened a bomb")

    monkeypatch.setattr("openpyxl.load_workbook", must_not_open)
    assert "解压后有300MB" in _refusal(bombs["shared_string"])
    # Under the total cap, the shared strings have their own; and a lopsided compression ratio is refused.
    assert "文字有8MB" in _refusal(shared_string_bomb(8))


def test_compression_ratio_cap(settings):
    settings.OUTREACH_IMPORT_MAX_SHARED_STRINGS_BYTES = 50 * 1024 * 1024
    assert "压缩比异常" in _refusal(shared_string_bomb(8))


def test_a_long_cell_is_refused():
    data = xlsx(VILLAGER_HEADER, [["张大山", "13812340001", "", "保洁", "砌墙" * 1001]])
    assert "超过2000个字" in _refusal(data)
    csv_data = ("姓名,手机号\n张大山,13812340001\n" + "李," + "1" * 3000 + "\n").encode()
    assert "第3行有一格超过2000个字" in _refusal(csv_data, "a.csv")
    csv_wide = ("姓名,手机号" + ",x" * 60 + "\n").encode()
    assert "第1行超过了50列" in _refusal(csv_wide, "a.csv")


def test_a_normal_file_still_reads_with_real_row_numbers(trades):  # noqa: F811
    book = Workbook()
    sheet = book.active
    sheet.append(VILLAGER_HEADER)
    sheet.append(good_villagers()[0])
    sheet.append([])  # a blank row keeps its number out of the report
    sheet.append(good_villagers()[1])
    out = io.BytesIO()
    book.save(out)
    rows = imports.read_rows(kind="villagers", data=out.getvalue(), filename="a.xlsx")
    assert [number for number, _values in rows] == [2, 4]


def test_the_bomb_on_the_upload_page_is_a_field_error_not_a_crash(client, importer, bombs):  # noqa: F811
    client.force_login(importer)
    upload = SimpleUploadedFile("村民.xlsx", bombs["xfd"])
    response = client.post(reverse("outreach:import_upload"), {"kind": "villagers", "file": upload})
    assert response.status_code in (200, 400) and "16384列" in response.content.decode()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("name", ["xfd", "xfd_undeclared", "shared_string"])
def test_reading_a_bomb_peaks_under_200_mb_in_a_fresh_process(bombs, name):
    result = measure(bombs[name])
    assert result["outcome"] == "refused", result
    assert result["maxrss_mb"] < 200 and result["peak_mb"] < 200, result
    assert result["cpu_seconds"] < 10, result  # CPU, not wall time: the test box is shared
