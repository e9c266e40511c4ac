"""The staff import's limits to the unit (outreach.imports.read_rows): a file of exactly the byte limit is
read and one byte more refused; exactly the row limit is accepted and one row more refused."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from outreach import imports

ROWS = ["张大山,13812340001,,保洁", "李秀英,13812340002,,", "王小二,13812340003,,搬运"]


def csv(rows: list[str], pad: int = 0) -> bytes:
    """A villagers CSV, ``pad`` spaces spread over the rows' names (a cell's surrounding spaces are dropped;
    Python's csv reader takes at most 128 KB in one cell)."""
    each, extra = divmod(pad, len(rows))
    padded = [
        row.replace(",", " " * (each + (extra if i == len(rows) - 1 else 0)) + ",", 1)
        for i, row in enumerate(rows)
    ]
    return ("姓名,手机号,身份证号,想干的工种\n" + "\n".join(padded) + "\n").encode()


def refusal(data: bytes) -> DomainError:
    with pytest.raises(DomainError) as info:
        imports.read_rows(kind="villagers", data=data, filename="登记.csv")
    assert info.value.field == "file"
    return info.value


def test_a_file_of_exactly_the_byte_limit_is_read_one_byte_more_refused(settings):
    settings.OUTREACH_IMPORT_MAX_BYTES = 1024 * 1024
    settings.OUTREACH_IMPORT_MAX_CELL_CHARS = 100_000  # the padded cells are not what is tested here
    rows = [f"村民{chr(0x4E00 + i)},138123400{i:02d},," for i in range(12)]
    pad = settings.OUTREACH_IMPORT_MAX_BYTES - len(csv(rows))
    exact = csv(rows, pad)
    assert len(exact) == settings.OUTREACH_IMPORT_MAX_BYTES
    read = imports.read_rows(kind="villagers", data=exact, filename="登记.csv")
    assert [r["name"].strip() for _, r in read] == [f"村民{chr(0x4E00 + i)}" for i in range(12)]
    assert refusal(csv(rows, pad + 1)).message == "文件不能超过1MB"


def test_exactly_the_row_limit_is_accepted_one_row_more_refused(settings):
    settings.OUTREACH_IMPORT_MAX_ROWS = 3
    assert len(imports.read_rows(kind="villagers", data=csv(ROWS), filename="登记.csv")) == 3
    settings.OUTREACH_IMPORT_MAX_ROWS = 2
    assert refusal(csv(ROWS)).message == "一次最多导入2行，这个文件超过了，请分开导入"
