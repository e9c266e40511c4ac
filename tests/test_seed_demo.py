"""``manage.py seed_demo``: a complete, realistic, idempotent demo city; bulk seekers for benchmarks."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from stdnum.cn import uscc

from accounts import demo_data
from accounts.models import (
    Area,
    Certificate,
    CertificateType,
    Employer,
    EmployerMember,
    RealName,
    ReviewEvent,
    ServicePoint,
    User,
    WorkerProfile,
)
from accounts.validators import normalize_id_number
from core.models import AuditLog
from jobs.models import Trade
from notifications.models import Message

pytestmark = pytest.mark.django_db

COUNTED = [
    Area,
    ServicePoint,
    Trade,
    CertificateType,
    User,
    WorkerProfile,
    WorkerProfile.wanted_trades.through,
    RealName,
    Employer,
    EmployerMember,
    Certificate,
    ReviewEvent,
    Message,
    AuditLog,
    Group,
]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in COUNTED}


def test_city_network_catalogue_and_people():
    seed()
    assert Trade.objects.count() >= 40
    restricted = dict(
        Trade.objects.filter(certificate_type__isnull=False).values_list("name", "certificate_type__code")
    )
    assert restricted["电焊工"] == "welding"
    assert restricted["电工"] == "electrician"
    assert restricted["高空作业"] == restricted["外墙清洗"] == restricted["架子工"] == "work-at-height"
    assert restricted["空调安装维修"] == "refrigeration"
    assert Trade.objects.get(name="保洁").risk_class == 2
    assert Trade.objects.get(name="电焊工").risk_class == 5
    assert Trade.objects.get(name="高空作业").risk_class == 6
    assert set(Trade.objects.values_list("risk_class", flat=True)) <= {1, 2, 3, 4, 5, 6}

    # "1+17+N": one district market, 17 street/town markets, village stations under each
    assert set(Area.objects.values_list("level", flat=True)) == {"district", "street", "village"}
    assert all(re.fullmatch(r"\d{12}", code) for code in Area.objects.values_list("code", flat=True))
    assert not Area.objects.filter(lat__isnull=True).exists()
    district = ServicePoint.objects.get(kind="district_market")
    markets = ServicePoint.objects.filter(kind="street_market")
    assert markets.count() == 17 and set(markets.values_list("parent", flat=True)) == {district.pk}
    stations = ServicePoint.objects.filter(kind="village_station").select_related("parent", "area__parent")
    assert stations.count() >= 34
    for station in stations:
        assert station.parent.kind == "street_market"
        assert station.area.level == "village" and station.area.parent_id == station.parent.area_id

    # employers: every kind and every status, valid credit codes, members
    pairs = set(Employer.objects.values_list("kind", "status"))
    assert {k for k, _ in pairs} == set(Employer.Kind.values)
    assert {s for _, s in pairs} == set(Employer.Status.values)
    for code in Employer.objects.exclude(uscc=None).values_list("uscc", flat=True):
        assert uscc.is_valid(code), code
    assert Employer.objects.filter(kind="household", uscc=None).count() == 3
    assert Employer.objects.filter(status="rejected").exclude(reject_reason="").count() == 2
    assert EmployerMember.objects.filter(employer__name="青溪市宏建建筑工程有限公司").count() == 2

    # seekers: profiles, real-names in every state, certificates pending and approved
    assert set(RealName.objects.values_list("status", flat=True)) == {"pending", "verified", "rejected"}
    assert set(Certificate.objects.values_list("status", flat=True)) == {"pending", "approved", "rejected"}
    profile = User.objects.get(phone="13500000003").worker_profile
    assert profile.wanted_trades.count() == 3 and profile.skills and profile.expected_pay_fen
    assert profile.area.level == "village"
    assert User.objects.filter(is_active=False, registered_by__isnull=False).count() == 2
    assert WorkerProfile.objects.filter(help_tier__gt=0).count() >= 3


def test_demo_logins_exist_authenticate_and_are_printed():
    output = seed()
    request = RequestFactory().post("/login/")
    for login in demo_data.DEMO_LOGINS:
        user = authenticate(request, phone=login.phone, password="gigmarket-demo")
        assert user is not None and user.phone == login.phone, login.key
        assert re.search(rf"{login.role_label}\s+{login.phone}\s+gigmarket-demo\s+http", output)

    staff = User.objects.get(phone="13500000001")
    assert staff.is_staff and not staff.is_superuser and staff.service_point.kind == "district_market"
    assert staff.groups.filter(name="大厅工作人员").exists()
    for perm in ["accounts.change_realname", "accounts.change_employer", "accounts.register_on_behalf"]:
        assert staff.has_perm(perm)
    assert not staff.has_perm("accounts.view_full_id_number")
    mediator = User.objects.get(phone="13500000002")
    assert mediator.role == "mediator" and mediator.groups.filter(name="调解员").exists()
    assert User.objects.get(phone="13500000000").is_superuser
    employer = User.objects.get(phone="13500000004")
    owned = Employer.objects.get(memberships__user=employer, memberships__role="owner")
    assert owned.kind == "company" and owned.status == "approved"
    seeker = User.objects.get(phone="13500000003")
    assert seeker.is_verified and seeker.certificates.filter(status="approved").exists()

    # another password: the demo logins follow it on the next run
    seed("--password", "another-demo-pass")
    assert authenticate(request, phone="13500000001", password="another-demo-pass") is not None


def test_running_twice_changes_nothing():
    first = seed()
    before = counts()
    second = seed()
    assert counts() == before
    assert "新建：无" in second
    table = first[first.index("演示账号") :]
    assert table == second[second.index("演示账号") :]  # the printed table is stable


def test_bulk_workers_are_added_once():
    seed()
    before = User.objects.count()
    seed("--workers", "500", "--batch-size", "128")
    assert User.objects.count() == before + 500
    bulk = User.objects.filter(phone__startswith=demo_data.BULK_WORKER_PREFIX)
    assert bulk.count() == 500 and bulk.filter(role="seeker").count() == 500
    assert WorkerProfile.objects.filter(user__in=bulk).count() == 500
    assert not WorkerProfile.objects.filter(user__in=bulk, wanted_trades=None).exists()
    sample = bulk.order_by("phone").first()
    assert sample.check_password("gigmarket-demo")
    snapshot = list(bulk.order_by("phone").values_list("phone", "name", "service_point_id"))

    after = counts()
    seed("--workers", "500")
    assert counts() == after
    # a larger run keeps the first 500 as they were and adds only the rest
    seed("--workers", "700", "--employers", "30")
    assert bulk.count() == 700
    assert list(bulk.order_by("phone")[:500].values_list("phone", "name", "service_point_id")) == snapshot
    bulk_employers = Employer.objects.filter(created_by__phone__startswith=demo_data.BULK_EMPLOYER_PREFIX)
    assert bulk_employers.count() == 30
    assert all(uscc.is_valid(code) for code in bulk_employers.values_list("uscc", flat=True))
    seed("--workers", "700", "--employers", "30")
    assert bulk.count() == 700 and bulk_employers.count() == 30


def test_real_names_are_stored_encrypted():
    seed()
    records = {r.pk: r.id_number for r in RealName.objects.all()}  # decrypted by the field
    assert len(records) >= 15
    for number in records.values():
        normalize_id_number(number)  # valid IDs
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number, id_index, id_masked FROM accounts_realname")
        rows = cursor.fetchall()
    for pk, stored, index, masked in rows:
        plain = records[pk]
        assert plain not in stored and plain[6:14] not in stored
        assert plain not in index and re.fullmatch(r"\d{4}\*{10}[\dX]{4}", masked)
    # and not in the other text columns that could pick one up
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT body FROM notifications_message UNION ALL SELECT number FROM accounts_certificate"
        )
        text = " ".join(row[0] for row in cursor.fetchall())
    assert not any(number in text for number in records.values())
