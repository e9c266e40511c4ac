"""Staff API: review queues (real-name, employers, certificates), the audited ID unmask, assisted sign-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Certificate, Employer, RealName, ReviewEvent, User
from core.models import AuditLog
from tests import factories
from tests.conftest import make_image

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def grant(user, *codenames: str) -> User:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # drop the permission cache


@pytest.fixture
def pending_realname(alice):
    return services.realname_submit(user=alice, name="李爱丽", id_number=factories.id_number(201))


@pytest.fixture
def pending_employer(charlie):
    return factories.EmployerFactory(created_by=charlie, status=Employer.Status.PENDING)


@pytest.fixture
def pending_certificate(alice):
    return services.certificate_submit(
        user=alice,
        cert_type=factories.CertificateTypeFactory(),
        number="T0001",
        image=make_image(),
        expires_on=dt.date(2099, 1, 1),
    )


STAFF_CALLS = [
    ("get", "api:staff-realname-list", False),
    ("get", "api:staff-realname-detail", True),
    ("post", "api:staff-realname-approve", True),
    ("post", "api:staff-realname-reject", True),
    ("post", "api:staff-realname-unmask", True),
    ("get", "api:staff-employer-list", False),
    ("post", "api:staff-employer-approve", True),
    ("post", "api:staff-employer-reject", True),
    ("post", "api:staff-employer-suspend", True),
    ("post", "api:staff-employer-reinstate", True),
    ("get", "api:staff-certificate-list", False),
    ("post", "api:staff-certificate-approve", True),
    ("post", "api:staff-certificate-reject", True),
    ("post", "api:staff-assisted-registrations", False),
    ("post", "api:staff-assisted-registrations-confirm", False),
]


@pytest.mark.parametrize(("method", "name", "detail"), STAFF_CALLS)
def test_non_staff_are_refused_every_staff_endpoint(alice, pending_realname, method, name, detail):
    # Even holding the model permissions does not make a non-staff account a reviewer.
    alice = grant(alice, "view_realname", "change_realname", "view_full_id_number")
    kwargs = {"pk": pending_realname.pk} if detail else {}

    response = getattr(api_as(alice), method)(reverse(name, kwargs=kwargs), {"reason": "看看"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert RealName.objects.get(pk=pending_realname.pk).status == RealName.Status.PENDING
    assert not AuditLog.objects.filter(action="unmask_id").exists()


def test_staff_without_the_model_permission_are_refused(pending_realname):
    bare = factories.UserFactory(role="staff", is_staff=True)

    assert api_as(bare).get(reverse("api:staff-realname-list")).status_code == 403
    assert api_as(bare).get(reverse("api:staff-employer-list")).status_code == 403
    assert api_as(bare).get(reverse("api:staff-certificate-list")).status_code == 403


def test_staff_with_view_only_cannot_decide(pending_realname):
    viewer = grant(factories.UserFactory(role="staff", is_staff=True), "view_realname")
    client = api_as(viewer)

    assert client.get(reverse("api:staff-realname-list")).status_code == 200
    response = client.post(reverse("api:staff-realname-approve", kwargs={"pk": pending_realname.pk}))
    assert response.status_code == 403
    assert RealName.objects.get(pk=pending_realname.pk).status == RealName.Status.PENDING


# ----------------------------------------------------------------------------------------- real-name


def test_realname_queue_never_shows_the_full_number(staff, pending_realname, bob):
    factories.RealNameFactory(user=bob, status=RealName.Status.VERIFIED)
    full = pending_realname.id_number
    client = api_as(staff)

    listed = client.get(reverse("api:staff-realname-list"), {"status": "pending"})
    detail = client.get(reverse("api:staff-realname-detail", kwargs={"pk": pending_realname.pk}))

    assert listed.status_code == 200
    results = listed.json()["results"]
    assert [r["id"] for r in results] == [pending_realname.pk]
    assert results[0]["id_masked"] == pending_realname.id_masked
    assert results[0]["user"]["phone"] == "138****0001"
    for response in (listed, detail):
        assert full not in response.content.decode()
        assert pending_realname.user.phone not in response.content.decode()


def test_staff_approves_a_realname(staff, pending_realname):
    url = reverse("api:staff-realname-approve", kwargs={"pk": pending_realname.pk})

    response = api_as(staff).post(url)

    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert pending_realname.id_number not in response.content.decode()
    event = ReviewEvent.objects.filter(subject="realname", object_id=pending_realname.pk).last()
    assert (event.actor, event.to_status) == (staff, "verified")
    # deciding twice is a conflict, not a silent re-write
    again = api_as(staff).post(url)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


def test_staff_rejects_a_realname_with_a_reason(staff, pending_realname):
    url = reverse("api:staff-realname-reject", kwargs={"pk": pending_realname.pk})
    client = api_as(staff)

    no_reason = client.post(url, {"reason": ""}, format="json")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["fields"]

    response = client.post(url, {"reason": "照片与本人不符"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reject_reason"]) == ("rejected", "照片与本人不符")


def test_unmask_needs_the_explicit_permission(staff, pending_realname):
    url = reverse("api:staff-realname-unmask", kwargs={"pk": pending_realname.pk})

    response = api_as(staff).post(url, {"reason": "核对证件"}, format="json")

    assert response.status_code == 403
    assert pending_realname.id_number not in response.content.decode()
    assert not AuditLog.objects.exists()


def test_unmask_with_the_permission_returns_the_number_and_is_audited(staff, pending_realname):
    auditor = grant(staff, "view_full_id_number")
    url = reverse("api:staff-realname-unmask", kwargs={"pk": pending_realname.pk})

    response = api_as(auditor).post(url, {"reason": "当面核对身份证"}, format="json", REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    assert response.json() == {"id_number": factories.id_number(201)}
    log = AuditLog.objects.get()
    assert (log.actor, log.action, log.target_type, log.target_id) == (
        auditor,
        "unmask_id",
        "accounts.realname",
        str(pending_realname.pk),
    )
    assert (log.reason, log.ip_address) == ("当面核对身份证", "10.1.2.3")


def test_unmask_needs_a_reason(staff, pending_realname):
    auditor = grant(staff, "view_full_id_number")

    response = api_as(auditor).post(
        reverse("api:staff-realname-unmask", kwargs={"pk": pending_realname.pk}), {}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert not AuditLog.objects.exists()


def test_unknown_realname_is_404(staff):
    assert api_as(staff).post(reverse("api:staff-realname-approve", kwargs={"pk": 999999})).status_code == 404


# ------------------------------------------------------------------------------------------ employers


def test_employer_review_lifecycle(staff, pending_employer, outbox, charlie):
    client = api_as(staff)

    def call(action, **data):
        return client.post(
            reverse(f"api:staff-employer-{action}", kwargs={"pk": pending_employer.pk}), data, format="json"
        )

    listed = client.get(reverse("api:staff-employer-list"), {"status": "pending"}).json()["results"]
    assert [e["id"] for e in listed] == [pending_employer.pk]
    assert listed[0]["created_by"]["phone"] == "138****0003"

    assert call("suspend", reason="还没审核").status_code == 409  # only an approved employer can be suspended
    approved = call("approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert "通过" in outbox.last(charlie.phone).body
    assert call("suspend").status_code == 400  # a suspension needs a reason
    assert call("suspend", reason="多次拖欠工资").json()["status"] == "suspended"
    assert call("reinstate").json()["status"] == "approved"
    assert list(
        ReviewEvent.objects.filter(subject="employer", object_id=pending_employer.pk).values_list(
            "to_status", flat=True
        )
    ) == ["approved", "suspended", "approved"]


def test_staff_rejects_an_employer(staff, pending_employer):
    response = api_as(staff).post(
        reverse("api:staff-employer-reject", kwargs={"pk": pending_employer.pk}),
        {"reason": "营业执照已注销"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reject_reason"]) == ("rejected", "营业执照已注销")


# --------------------------------------------------------------------------------------- certificates


def test_certificate_review(staff, pending_certificate, bob):
    other = services.certificate_submit(
        user=bob,
        cert_type=pending_certificate.cert_type,
        number="T0002",
        image=make_image(),
        expires_on=dt.date(2099, 1, 1),
    )
    client = api_as(staff)

    listed = client.get(reverse("api:staff-certificate-list"), {"status": "pending"}).json()["results"]
    assert [c["id"] for c in listed] == [pending_certificate.pk, other.pk]  # oldest first

    approved = client.post(reverse("api:staff-certificate-approve", kwargs={"pk": pending_certificate.pk}))
    assert approved.status_code == 200
    assert approved.json()["is_valid"] is True
    rejected = client.post(
        reverse("api:staff-certificate-reject", kwargs={"pk": other.pk}),
        {"reason": "照片模糊"},
        format="json",
    )
    assert rejected.status_code == 200
    assert Certificate.objects.get(pk=other.pk).status == Certificate.Status.REJECTED
    assert client.get(reverse("api:staff-certificate-list"), {"status": "pending"}).json()["results"] == []


# ---------------------------------------------------------------------------------- assisted sign-up


def test_assisted_registration_then_confirmation(staff, outbox):
    trade = factories.TradeFactory(name="采茶工")
    client = api_as(staff)
    phone = "13700001234"

    response = client.post(
        reverse("api:staff-assisted-registrations"),
        {"phone": phone, "name": "王阿婆", "wanted_trades": [trade.pk]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"]["is_active"] is False
    assert body["user"]["phone"] == "137****1234"
    assert body["expires_in"] > 0
    user = User.objects.get(phone=phone)
    assert (user.registered_by, user.service_point) == (staff, staff.service_point)
    assert list(user.worker_profile.wanted_trades.all()) == [trade]

    wrong = "000000" if outbox.code(phone) != "000000" else "111111"
    bad = client.post(
        reverse("api:staff-assisted-registrations-confirm"), {"phone": phone, "code": wrong}, format="json"
    )
    assert bad.status_code == 400
    confirmed = client.post(
        reverse("api:staff-assisted-registrations-confirm"),
        {"phone": phone, "code": outbox.code(phone)},
        format="json",
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["is_active"] is True
    assert User.objects.get(phone=phone).is_active


def test_assisted_registration_with_a_bad_id_number_creates_nothing(staff):
    response = api_as(staff).post(
        reverse("api:staff-assisted-registrations"),
        {"phone": "13700001234", "name": "王阿婆", "id_number": "350402194902310001"},
        format="json",
    )

    assert response.status_code == 400
    assert "id_number" in response.json()["fields"]
    assert not User.objects.filter(phone="13700001234").exists()


def test_assisted_registration_of_a_registered_number_is_a_conflict(staff, alice):
    response = api_as(staff).post(
        reverse("api:staff-assisted-registrations"), {"phone": alice.phone, "name": "李爱丽"}, format="json"
    )

    assert response.status_code == 409
    assert "phone" in response.json()["fields"]
