"""Me API: the caller's account, worker profile and real-name (the ID number only ever masked)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient
from stdnum.cn import ric

from accounts.models import RealName, WorkerProfile
from tests import factories

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def with_check_digit(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


VALID_ID = factories.id_number(101)


# ------------------------------------------------------------------------------------------------ me


def test_me_shows_my_own_account(alice):
    response = api_as(alice).get(reverse("api:me"))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == alice.pk
    assert body["phone"] == alice.phone  # one's own number in full
    assert body["role"] == "seeker"
    assert body["is_verified"] is False


def test_me_patch_changes_the_name_only(alice):
    response = api_as(alice).patch(
        reverse("api:me"), {"name": "  李阿姨 ", "role": "staff", "is_staff": True}, format="json"
    )

    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.name == "李阿姨"
    assert alice.role == "seeker"
    assert alice.is_staff is False


def test_me_patch_with_a_blank_name_is_refused(alice):
    response = api_as(alice).patch(reverse("api:me"), {"name": "   "}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["fields"]


# ------------------------------------------------------------------------------------------- profile


def test_profile_put_and_get(alice):
    weld = factories.TradeFactory(name="电焊工")
    clean = factories.TradeFactory(name="保洁")
    area = factories.AreaFactory()
    client = api_as(alice)

    response = client.put(
        reverse("api:me-profile"),
        {
            "wanted_trades": [weld.pk, clean.pk],
            "skills": ["电焊", "电焊", "瓷砖铺贴"],
            "expected_pay_fen": 25000,
            "expected_pay_unit": "day",
            "area": area.pk,
            "availability": ["weekdays", "mornings"],
            "available_from": "2026-12-01",
            "max_distance_km": 15,
            "about": "干了二十年装修",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    profile = WorkerProfile.objects.get(user=alice)
    assert set(profile.wanted_trades.values_list("pk", flat=True)) == {weld.pk, clean.pk}
    assert profile.skills == ["电焊", "瓷砖铺贴"]
    assert profile.expected_pay_fen == 25000
    assert profile.available_from == dt.date(2026, 12, 1)
    body = client.get(reverse("api:me-profile")).json()
    assert sorted(body["wanted_trades"]) == sorted([weld.pk, clean.pk])
    assert body["area"] == area.pk
    assert "help_tier" not in body
    assert "help_reasons" not in body


def test_profile_patch_keeps_the_other_fields_and_ignores_the_help_flag(alice):
    WorkerProfile.objects.filter(user=alice).update(expected_pay_fen=20000, about="老实肯干")

    response = api_as(alice).patch(
        reverse("api:me-profile"), {"max_distance_km": 5, "help_tier": 3}, format="json"
    )

    assert response.status_code == 200
    profile = WorkerProfile.objects.get(user=alice)
    assert (profile.max_distance_km, profile.expected_pay_fen, profile.about) == (5, 20000, "老实肯干")
    assert profile.help_tier == WorkerProfile.HelpTier.NONE


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"availability": ["someday"]}, "availability"),
        ({"expected_pay_fen": -1}, "expected_pay_fen"),
        ({"expected_pay_fen": 100_000_01}, "expected_pay_fen"),
        ({"max_distance_km": 0}, "max_distance_km"),
        ({"wanted_trades": [999999]}, "wanted_trades"),
        ({"available_from": "2026-02-30"}, "available_from"),
    ],
)
def test_profile_bad_input_is_a_400_naming_the_field(alice, payload, field):
    response = api_as(alice).patch(reverse("api:me-profile"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_an_inactive_trade_cannot_be_wanted(alice):
    retired = factories.TradeFactory(name="淘汰工种", is_active=False)

    response = api_as(alice).patch(reverse("api:me-profile"), {"wanted_trades": [retired.pk]}, format="json")

    assert response.status_code == 400
    assert "wanted_trades" in response.json()["fields"]


def test_profile_get_without_a_profile_is_404_and_put_creates_it():
    employer_user = factories.UserFactory(role="employer")
    client = api_as(employer_user)

    assert client.get(reverse("api:me-profile")).status_code == 404
    assert client.put(reverse("api:me-profile"), {"about": "也想打零工"}, format="json").status_code == 200
    assert WorkerProfile.objects.get(user=employer_user).about == "也想打零工"


# ------------------------------------------------------------------------------------------ real-name


def test_realname_submit_and_read_show_only_the_masked_number(alice):
    client = api_as(alice)
    assert client.get(reverse("api:me-realname")).status_code == 404

    response = client.post(
        reverse("api:me-realname"), {"name": "李爱丽", "id_number": VALID_ID.lower()}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["id_masked"] == VALID_ID[0] + "*" * 16 + VALID_ID[-1]
    assert "id_number" not in body
    assert VALID_ID not in response.content.decode()
    got = client.get(reverse("api:me-realname"))
    assert got.status_code == 200
    assert got.json()["id_masked"] == body["id_masked"]
    assert VALID_ID not in got.content.decode()
    assert RealName.objects.get(user=alice).id_number == VALID_ID


@pytest.mark.parametrize(
    "bad",
    [
        VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1"),  # wrong check digit
        with_check_digit("350402" + "19490231" + "123"),  # 31 February 1949 never happened
        VALID_ID[:17],  # 17 digits
        VALID_ID + "1",  # 19 digits
        "35040219750615ABCD",
    ],
    ids=["check-digit", "impossible-date", "too-short", "too-long", "letters"],
)
def test_a_bad_id_number_is_a_400_on_id_number(alice, bad):
    response = api_as(alice).post(
        reverse("api:me-realname"), {"name": "李爱丽", "id_number": bad}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["id_number"]
    assert not RealName.objects.filter(user=alice).exists()


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1"), "invalid_checksum"),
        (with_check_digit("350402" + "19490231" + "123"), "invalid_birth_date"),
        (with_check_digit("350402" + "18991231" + "123"), "birth_date_too_early"),
        (with_check_digit("999999" + "19800101" + "123"), "invalid_region"),
        (VALID_ID[:17], "invalid_length"),
        ("35040219750615ABCD", "invalid_format"),
    ],
)
def test_id_number_failures_carry_their_code_in_the_api(alice, bad, code):
    response = api_as(alice).post(
        reverse("api:me-realname"), {"name": "李爱丽", "id_number": bad}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["field_codes"] == {"id_number": [code]}


def test_a_full_width_spaced_id_of_a_recoded_county_is_accepted(alice):
    # 密云区's code 110118 dates from 2015; this holder was born in 1958 and carries it
    number = with_check_digit("110118" + "19580301" + "042")
    typed = "".join(chr(ord(c) + 0xFEE0) for c in number[:6]) + " " + number[6:14] + "-" + number[14:]
    response = api_as(alice).post(
        reverse("api:me-realname"), {"name": "李爱丽", "id_number": typed}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert RealName.objects.get(user=alice).id_number == number


def test_a_bad_name_is_a_400_on_name(alice):
    response = api_as(alice).post(
        reverse("api:me-realname"), {"name": "x", "id_number": VALID_ID}, format="json"
    )

    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_one_id_number_cannot_serve_two_accounts(alice, charlie):
    assert (
        api_as(alice)
        .post(reverse("api:me-realname"), {"name": "李爱丽", "id_number": VALID_ID}, format="json")
        .status_code
        == 201
    )

    response = api_as(charlie).post(
        reverse("api:me-realname"), {"name": "张查理", "id_number": VALID_ID}, format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert list(body["fields"]) == ["id_number"]
    assert VALID_ID not in response.content.decode()
    assert not RealName.objects.filter(user=charlie).exists()


def test_resubmitting_while_pending_is_a_conflict(alice):
    client = api_as(alice)
    client.post(reverse("api:me-realname"), {"name": "李爱丽", "id_number": VALID_ID}, format="json")

    response = client.post(
        reverse("api:me-realname"), {"name": "李爱丽", "id_number": factories.id_number(102)}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_my_realname_is_mine_only(alice, charlie):
    factories.RealNameFactory(user=charlie, status=RealName.Status.VERIFIED)

    assert api_as(alice).get(reverse("api:me-realname")).status_code == 404
