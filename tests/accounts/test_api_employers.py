"""Employers, members, certificates and the public catalogues over the API; nobody sees another's things."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from stdnum.cn import uscc

from accounts import services
from accounts.models import Certificate, Employer, EmployerMember
from tests import factories
from tests.conftest import make_image

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def valid_uscc(body17: str = "91350100MA2Y0X8J2") -> str:
    return body17 + uscc.calc_check_digit(body17)


def company_form(**overrides) -> dict:
    return {
        "kind": "company",
        "name": "永康市好帮手家政有限公司",
        "uscc": valid_uscc(),
        "legal_representative": "陈大明",
        "licence_image": make_image("JPEG"),
        "licence_expires_on": "2030-12-31",
        **overrides,
    }


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("licence.png", b"%PDF-1.4 definitely not a picture", content_type="image/png")


@pytest.fixture
def charlies_employer(charlie, bob):
    employer = factories.EmployerFactory(created_by=charlie, name="查理装修队")
    EmployerMember.objects.create(employer=employer, user=bob)
    return employer


# ------------------------------------------------------------------------------------------ register


def test_register_a_company_with_its_licence(alice):
    response = api_as(alice).post(reverse("api:employer-list"), company_form(), format="multipart")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["my_role"] == "owner"
    assert body["uscc"] == valid_uscc()
    employer = Employer.objects.get(pk=body["id"])
    assert employer.licence_image.name.startswith("licences/")
    assert employer.memberships.get().user == alice


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": valid_uscc()[:-1] + ("0" if valid_uscc()[-1] != "0" else "1")}, "uscc"),
        ({"uscc": "91350100MA2Y0X8J"}, "uscc"),
        ({"legal_representative": ""}, "legal_representative"),
        ({"licence_image": not_an_image()}, "licence_image"),
        ({"licence_image": make_image("GIF")}, "licence_image"),
        ({"licence_expires_on": "2001-01-01"}, "licence_expires_on"),
        ({"kind": "charity"}, "kind"),
    ],
    ids=["uscc-check", "uscc-length", "no-legal-rep", "not-an-image", "gif", "expired", "bad-kind"],
)
def test_register_bad_input_is_a_400_naming_the_field(alice, overrides, field):
    response = api_as(alice).post(reverse("api:employer-list"), company_form(**overrides), format="multipart")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Employer.objects.exists()


def test_register_without_a_licence_is_refused(alice):
    form = company_form()
    del form["licence_image"]

    response = api_as(alice).post(reverse("api:employer-list"), form, format="multipart")

    assert response.status_code == 400
    assert "licence_image" in response.json()["fields"]


def test_an_oversized_licence_is_refused(alice, settings):
    big = make_image("PNG", size=(600, 600))
    settings.UPLOAD_MAX_BYTES = big.size - 1  # one byte over the limit

    response = api_as(alice).post(
        reverse("api:employer-list"), company_form(licence_image=big), format="multipart"
    )

    assert response.status_code == 400
    assert "licence_image" in response.json()["fields"]


def test_a_uscc_already_registered_is_refused(alice, charlie):
    factories.EmployerFactory(created_by=charlie, uscc=valid_uscc())

    response = api_as(alice).post(reverse("api:employer-list"), company_form(), format="multipart")

    assert response.status_code == 400
    assert "uscc" in response.json()["fields"]


def test_a_household_needs_a_verified_real_name(alice):
    client = api_as(alice)
    response = client.post(reverse("api:employer-list"), {"kind": "household"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["fields"]

    factories.RealNameFactory(user=alice)
    response = client.post(reverse("api:employer-list"), {"kind": "household"}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "李爱丽（居民）"


# ------------------------------------------------------------------------------------- list / detail


def test_list_shows_only_my_employers(alice, charlies_employer):
    mine = factories.EmployerFactory(created_by=alice, name="爱丽家政")

    response = api_as(alice).get(reverse("api:employer-list"))

    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body["results"]] == [mine.pk]
    assert body["results"][0]["my_role"] == "owner"


def test_a_member_sees_the_employer_and_their_role(bob, charlies_employer):
    response = api_as(bob).get(reverse("api:employer-detail", kwargs={"pk": charlies_employer.pk}))

    assert response.status_code == 200
    assert response.json()["my_role"] == "member"


def test_alice_cannot_reach_charlies_employer(alice, charlie, charlies_employer):
    client = api_as(alice)
    pk = charlies_employer.pk
    bob_membership = charlies_employer.memberships.get(role="member")

    assert client.get(reverse("api:employer-detail", kwargs={"pk": pk})).status_code == 404
    assert client.get(reverse("api:employer-members", kwargs={"pk": pk})).status_code == 404
    response = client.post(reverse("api:employer-members", kwargs={"pk": pk}), {"phone": alice.phone})
    assert response.status_code == 404
    response = client.delete(
        reverse("api:employer-member-remove", kwargs={"pk": pk, "member_id": bob_membership.pk})
    )
    assert response.status_code == 404
    response = client.post(reverse("api:employer-resubmit", kwargs={"pk": pk}), {"name": "抢来的"})
    assert response.status_code == 404
    assert charlies_employer.memberships.count() == 2
    assert Employer.objects.get(pk=pk).name == "查理装修队"


# ---------------------------------------------------------------------------------------------- members


def test_owner_adds_and_removes_a_member_and_phones_are_masked(alice, bob, charlie):
    employer = factories.EmployerFactory(created_by=alice)
    client = api_as(alice)
    members_url = reverse("api:employer-members", kwargs={"pk": employer.pk})

    added = client.post(members_url, {"phone": "+86" + bob.phone}, format="json")
    assert added.status_code == 201
    assert added.json()["phone"] == "138****0002"

    as_alice = {m["user_id"]: m["phone"] for m in client.get(members_url).json()}
    assert as_alice == {alice.pk: alice.phone, bob.pk: "138****0002"}
    as_bob = {m["user_id"]: m["phone"] for m in api_as(bob).get(members_url).json()}
    assert as_bob == {alice.pk: "138****0001", bob.pk: bob.phone}

    member_id = added.json()["id"]
    removed = client.delete(
        reverse("api:employer-member-remove", kwargs={"pk": employer.pk, "member_id": member_id})
    )
    assert removed.status_code == 204
    assert not employer.memberships.filter(user=bob).exists()
    assert api_as(bob).get(reverse("api:employer-detail", kwargs={"pk": employer.pk})).status_code == 404


def test_only_the_owner_manages_members(bob, charlie, charlies_employer):
    client = api_as(bob)  # a plain member
    url = reverse("api:employer-members", kwargs={"pk": charlies_employer.pk})

    response = client.post(url, {"phone": "13800000009"}, format="json")
    assert response.status_code == 403

    owner = charlies_employer.memberships.get(role="owner")
    response = client.delete(
        reverse("api:employer-member-remove", kwargs={"pk": charlies_employer.pk, "member_id": owner.pk})
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("phone", "status", "code"),
    [("13899999999", 400, "not_registered"), ("12345", 400, "invalid"), ("13800000002", 409, "conflict")],
)
def test_member_add_errors(alice, bob, phone, status, code):
    employer = factories.EmployerFactory(created_by=alice)
    EmployerMember.objects.create(employer=employer, user=bob)

    response = api_as(alice).post(
        reverse("api:employer-members", kwargs={"pk": employer.pk}), {"phone": phone}, format="json"
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    assert "phone" in response.json()["fields"]


def test_the_owner_cannot_be_removed(alice):
    employer = factories.EmployerFactory(created_by=alice)
    owner = employer.memberships.get()

    response = api_as(alice).delete(
        reverse("api:employer-member-remove", kwargs={"pk": employer.pk, "member_id": owner.pk})
    )

    assert response.status_code == 400
    assert employer.memberships.count() == 1


def test_a_membership_of_another_employer_is_404(alice, charlies_employer):
    employer = factories.EmployerFactory(created_by=alice)
    foreign = charlies_employer.memberships.get(role="member")

    response = api_as(alice).delete(
        reverse("api:employer-member-remove", kwargs={"pk": employer.pk, "member_id": foreign.pk})
    )

    assert response.status_code == 404
    assert EmployerMember.objects.filter(pk=foreign.pk).exists()


# --------------------------------------------------------------------------------------------- resubmit


def test_a_rejected_employer_is_corrected_and_resubmitted(alice, staff):
    employer = factories.EmployerFactory(created_by=alice, status=Employer.Status.PENDING, uscc=valid_uscc())
    services.employer_reject(employer=employer, actor=staff, reason="执照照片看不清")
    client = api_as(alice)
    url = reverse("api:employer-resubmit", kwargs={"pk": employer.pk})

    response = client.post(url, {"name": "永康好帮手家政", "licence_image": make_image()}, format="multipart")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["name"], body["reject_reason"]) == ("pending", "永康好帮手家政", "")
    assert body["uscc"] == valid_uscc()  # left out, so kept

    again = client.post(url, {"name": "再改一次"}, format="multipart")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


# ---------------------------------------------------------------------------------------- certificates


def cert_form(cert_type, /, **overrides) -> dict:
    return {
        "cert_type": cert_type.pk,
        "number": "T350402197506150011",
        "image": make_image(),
        "issued_on": "2024-03-01",
        "expires_on": (timezone.localdate() + dt.timedelta(days=365)).isoformat(),
        **overrides,
    }


def test_upload_and_read_my_certificate(alice):
    welding = factories.CertificateTypeFactory()
    client = api_as(alice)

    response = client.post(reverse("api:certificate-list"), cert_form(welding), format="multipart")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["cert_type"] == {"id": welding.pk, "code": "welding", "name": welding.name, "issuer": ""}
    assert body["is_valid"] is False
    detail = client.get(reverse("api:certificate-detail", kwargs={"pk": body["id"]}))
    assert detail.status_code == 200
    assert detail.json()["number_masked"] == "T*****************1"
    assert "T350402197506150011" not in detail.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expires_on": "2020-01-01"}, "expires_on"),
        ({"image": not_an_image()}, "image"),
        ({"number": "12"}, "number"),
        ({"cert_type": 999999}, "cert_type"),
        ({"issued_on": "2099-01-01"}, "issued_on"),
    ],
)
def test_certificate_bad_input_is_a_400_naming_the_field(alice, overrides, field):
    welding = factories.CertificateTypeFactory()

    response = api_as(alice).post(
        reverse("api:certificate-list"), cert_form(welding, **overrides), format="multipart"
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Certificate.objects.exists()


def test_alice_cannot_see_charlies_certificate(alice, charlie):
    welding = factories.CertificateTypeFactory()
    mine = services.certificate_submit(
        user=alice, cert_type=welding, number="A0001", image=make_image(), expires_on=dt.date(2099, 1, 1)
    )
    theirs = services.certificate_submit(
        user=charlie, cert_type=welding, number="C0001", image=make_image(), expires_on=dt.date(2099, 1, 1)
    )
    client = api_as(alice)

    assert client.get(reverse("api:certificate-detail", kwargs={"pk": theirs.pk})).status_code == 404
    listed = client.get(reverse("api:certificate-list")).json()["results"]
    assert [c["id"] for c in listed] == [mine.pk]


def test_certificate_list_pages_by_cursor(alice):
    welding = factories.CertificateTypeFactory()
    for n in range(23):
        Certificate.objects.create(
            user=alice,
            cert_type=welding,
            number=f"N{n:04d}",
            image="certificates/x.png",
            expires_on=dt.date(2099, 1, 1),
        )
    client = api_as(alice)

    first = client.get(reverse("api:certificate-list")).json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == 20
    assert len(second["results"]) == 3
    assert second["next"] is None
    seen = [c["id"] for c in first["results"] + second["results"]]
    assert len(set(seen)) == 23


# ------------------------------------------------------------------------------------------ catalogues


def test_trades_are_public_active_and_say_what_they_require():
    welding = factories.CertificateTypeFactory()
    weld = factories.TradeFactory(name="电焊工", risk_class=5, certificate_type=welding)
    clean = factories.TradeFactory(name="保洁", risk_class=1)
    factories.TradeFactory(name="淘汰工种", is_active=False)

    response = APIClient().get(reverse("api:trade-list"))

    assert response.status_code == 200
    by_name = {t["name"]: t for t in response.json()}
    assert set(by_name) == {"电焊工", "保洁"}
    assert by_name["电焊工"] == {
        "id": weld.pk,
        "name": "电焊工",
        "category": "services",
        "risk_class": 5,
        "requires_certificate": True,
        "certificate_type": welding.pk,
    }
    assert by_name["保洁"]["requires_certificate"] is False
    assert APIClient().get(reverse("api:trade-detail", kwargs={"pk": clean.pk})).status_code == 200


def test_trades_filter_by_risk_class():
    factories.TradeFactory(name="电焊工", risk_class=5)
    factories.TradeFactory(name="保洁", risk_class=1)

    response = APIClient().get(reverse("api:trade-list"), {"risk_class": 5})

    assert [t["name"] for t in response.json()] == ["电焊工"]


def test_service_points_and_certificate_types_are_public(service_point):
    factories.CertificateTypeFactory()
    factories.ServicePointFactory(name="关停的驿站", is_active=False)
    client = APIClient()

    points = client.get(reverse("api:service-point-list"))
    types = client.get(reverse("api:certificate-type-list"))

    assert points.status_code == 200
    assert [p["name"] for p in points.json()] == [service_point.name]
    assert points.json()[0]["area_name"] == service_point.area.name
    assert types.status_code == 200
    assert [t["code"] for t in types.json()] == ["welding"]


def test_catalogues_are_read_only(alice):
    response = api_as(alice).post(reverse("api:trade-list"), {"name": "新工种"}, format="json")

    assert response.status_code == 405
