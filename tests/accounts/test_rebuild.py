"""The stored ID number cannot be rebuilt from what a database dump holds in plaintext.

A person goes through real-name, review, an audited unmask and a certificate that carries their ID number;
then every cell of every table (and every log line written meanwhile) is read back as an attacker with a
dump would read it. Assumption: the Fernet keys and ``BLIND_INDEX_KEY`` are not in the dump, so the
encrypted columns and the keyed blind index are not plaintext (see tests/accounts/rebuild.py).
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from accounts import services
from accounts.models import CertificateType, RealName
from accounts.validators import id_check_digit
from core.masking import mask_id_number
from tests.conftest import make_image

from .rebuild import count_candidates, enumerate_candidates, masks_in, revealed_positions

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1963, 4, 27)
REGION = "110118"  # 密云区: a code from 2015, on a holder born in 1963


def _person_id() -> str:
    for seq in range(1000):  # an X check digit: the last four cannot hide in hex digests
        body = f"{REGION}{BIRTH:%Y%m%d}{seq:03d}"
        if id_check_digit(body) == "X":
            return body + "X"
    raise AssertionError


ID = _person_id()


def _dump() -> str:
    """Every cell of every table, as text."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            cells.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(cells)


def _fragments(number: str) -> list[str]:
    birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return [
        number,
        number.lower(),
        number[:17],
        number[:6],  # region
        number[6:14],  # birth date, as digits
        f"{birth:%Y-%m-%d}",
        f"{birth:%Y/%m/%d}",
        f"{birth.year}年{birth.month}月{birth.day}日",
        number[14:],  # sequence + check digit
        number[:4] + "*",  # the old mask's head
    ]


def test_a_dump_leaves_at_least_10000_candidates_for_the_id(alice, staff, caplog):
    caplog.set_level(logging.DEBUG)
    staff.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    staff = type(staff).objects.get(pk=staff.pk)
    record = services.realname_submit(
        user=alice, name="李爱丽", id_number=" ".join([ID[:6], ID[6:14], ID[14:]])
    )
    services.realname_approve(realname=record, actor=staff)
    assert services.realname_unmask(realname=record, actor=staff, reason="核对证件") == ID
    welding = CertificateType.objects.create(code="welding", name="特种作业操作证（焊接与热切割作业）")
    services.certificate_submit(
        user=alice,
        cert_type=welding,
        number="T" + ID,
        image=make_image("JPEG"),
        expires_on=dt.date(2031, 1, 1),
    )

    dump = _dump() + "\n" + caplog.text
    leaked = [fragment for fragment in _fragments(ID) if fragment in dump]
    assert not leaked
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_realname WHERE user_id = %s", [alice.pk])
        columns = [c.name for c in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    assert not [c for c in columns if "gender" in c or "sex" in c or "region" in c or c == "birth_date"]
    assert not [
        v for v in row.values() if isinstance(v, dt.date) and v.year == BIRTH.year and v < dt.date(2000, 1, 1)
    ]

    masks = masks_in(dump)
    assert row["id_masked"] in masks and "T" + "*" * 17 + "X" in masks
    known = revealed_positions(masks)
    assert known == {0: "1", 17: "X"}
    candidates = count_candidates(known=known, birth_years=[row["birth_year"]])
    print(f"ID candidates left by a dump of this person's rows: {candidates:,}")
    assert candidates >= 10_000


def test_the_counter_agrees_with_listing_every_candidate():
    known = dict(enumerate(ID[:6])) | {10: ID[10], 11: ID[11], 17: "X"}  # region + month known
    listed = list(enumerate_candidates(known=known, birth_years=[BIRTH.year]))
    assert ID in listed
    assert len(listed) == count_candidates(known=known, birth_years=[BIRTH.year])
    assert len(set(listed)) == len(listed)
    male = count_candidates(known=known, birth_years=[BIRTH.year], gender="male")
    assert male == sum(1 for n in listed if int(n[16]) % 2 == 1)


def test_the_old_storage_was_rebuildable():
    # first 4 + last 4 beside the plain birth date: what the issue found for every demo person
    old_mask = ID[:4] + "*" * 10 + ID[-4:]
    known = revealed_positions([old_mask]) | dict(zip(range(6, 14), f"{BIRTH:%Y%m%d}", strict=True))
    assert count_candidates(known=known, birth_years=[BIRTH.year]) <= 3
    # the new mask with the birth year
    known = revealed_positions([mask_id_number(ID)])
    assert count_candidates(known=known, birth_years=[BIRTH.year]) >= 10_000


def test_realname_rows_keep_the_year_only(alice):
    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    assert RealName.objects.get(pk=record.pk).birth_year == BIRTH.year
    assert not hasattr(record, "birth_date")
