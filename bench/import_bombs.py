"""Spreadsheet bombs against the staff import (outreach/imports.py): peak memory and time of reading each
one, measured in a fresh subprocess (started through a small launcher, so its ``resource.getrusage`` maxrss
is its own), with its VmHWM alongside, and CPU time as well as wall time, as the box may be shared.

    .venv/bin/python bench/import_bombs.py

The bombs (issue #22, item 7), built here and used by tests/outreach/test_import_bombs.py:

- ``xfd``: about 100 KB of xlsx, 20,000 rows of formatted empty cells, one cell in column XFD (16,384):
  the sheet declares A1:XFD20001, and read-only openpyxl pads every row out to the declared width.
- ``xfd_undeclared``: the same with the ``<dimension>`` element removed, so only the reading bounds it.
- ``shared_string``: about 300 KB of xlsx whose one shared string is 300 MB of "A" (openpyxl loads the shared
  strings whole, even in read-only mode).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["姓名*", "手机号*", "身份证号", "想干的工种", "会干什么"]


def xfd_bomb(rows: int = 20_000) -> bytes:
    """The template's header, one cell in column XFD, and ``rows`` rows that exist in the sheet but hold
    only a formatted empty cell: none counts as filled, so a reader that stops after N filled rows reads
    them all, each padded out to 16,384 columns."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for number in range(2, rows + 2):
        sheet.cell(row=number, column=1).number_format = "@"
    sheet.cell(row=1, column=16384, value="x")  # column XFD
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def without_dimension(data: bytes) -> bytes:
    """The same workbook with every sheet's ``<dimension ref=…/>`` removed."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            body = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = re.sub(rb"<dimension [^>]*/>", b"", body)
            target.writestr(item, body)
    return out.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="导入数据" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)


def shared_string_bomb(megabytes: int = 300) -> bytes:
    """A hand-made xlsx: the header row, one data row whose name is shared string 0, ``megabytes`` MB of
    "A". Streamed into the zip a megabyte at a time, so building it costs little memory."""
    header = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADER)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1">{header}</row><row r="2"><c r="A2" t="s"><v>0</v></c></row>'
        "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                b'uniqueCount="1"><si><t>'
            )
            chunk = b"A" * (1024 * 1024)
            for _ in range(megabytes):
                strings.write(chunk)
            strings.write(b"</t></si></sst>")
    return out.getvalue()


BOMBS = {
    "xfd": lambda: xfd_bomb(),
    "xfd_undeclared": lambda: without_dimension(xfd_bomb()),
    "shared_string": lambda: shared_string_bomb(),
}

# Runs in the child: read one file through the import's reader, report the outcome, the time and the peak.
CHILD = """
import json, os, resource, sys, time
import django
django.setup()
from core.errors import DomainError
from outreach import imports
data = open(sys.argv[1], "rb").read()
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
started, started_cpu = time.perf_counter(), cpu()
try:
    rows = imports.read_rows(kind="villagers", data=data, filename="bomb.xlsx")
    outcome = f"read {len(rows)} rows"
    refused = None
except DomainError as exc:
    outcome, refused = "refused", exc.message
seconds, cpu_seconds = time.perf_counter() - started, cpu() - started_cpu
maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
with open("/proc/self/status") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "message": refused, "seconds": round(seconds, 3),
                  "cpu_seconds": round(cpu_seconds, 3), "peak_mb": round(hwm_kb / 1024, 1),
                  "maxrss_mb": round(maxrss_mb, 1)}))
"""


# Linux carries the spawning process's peak into a child's ru_maxrss (across fork/vfork + exec): a small
# Python in between makes the child's maxrss its own, however big the caller (a pytest run) has grown.
LAUNCHER = (
    "import subprocess, sys; sys.exit(subprocess.run([sys.executable, '-c', *sys.argv[1:]]).returncode)"
)


def measure(data: bytes, *, settings: str = "gigmarket.settings.test") -> dict:
    """Read ``data`` with outreach.imports.read_rows in a fresh Python; its outcome, seconds and peak MB."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(data)
        handle.flush()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, CHILD, handle.name],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "file_kb": round(len(data) / 1024, 1)}


def main() -> None:
    for name, build in BOMBS.items():
        result = measure(build())
        print(
            f"{name:15} {result['file_kb']:>8} KB  {result['outcome']:>8}  {result['seconds']:>7.3f} s "
            f"(cpu {result['cpu_seconds']:.3f} s)  "
            f"peak {result['peak_mb']:>7.1f} MB (maxrss {result['maxrss_mb']:.1f})  {result['message'] or ''}"
        )
    baseline = measure(b"PK not a zip")
    print(f"{'baseline':15} (python + django + the reader, a broken file)  peak {baseline['peak_mb']:.1f} MB")


if __name__ == "__main__":
    main()
