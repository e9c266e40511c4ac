"""Auth API: SMS codes, registration, login by password or code, lock-out, logout, password reset."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import PhoneCode, User
from notifications.models import Message

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
PASSWORD = "Gig-pass-2026"  # the factories' password


@pytest.fixture
def api():
    return APIClient()


def send_code(api, phone, purpose):
    return api.post(reverse("api:auth-codes"), {"phone": phone, "purpose": purpose}, format="json")


def login(api, phone, **secret):
    return api.post(reverse("api:auth-login"), {"phone": phone, **secret}, format="json")


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# ---------------------------------------------------------------------------------------------- codes


def test_code_is_sent_to_the_outbox_and_expiry_returned(api, outbox):
    response = send_code(api, "+86 138-1234-5678", "register")

    assert response.status_code == 201
    assert response.json() == {"expires_in": int(settings.PHONE_CODE_TTL.total_seconds())}
    code = outbox.code(PHONE)
    assert len(code) == 6
    assert code not in response.content.decode()


@pytest.mark.parametrize("phone", ["12345", "23812345678", "1381234567x", ""])
def test_code_for_a_bad_phone_is_a_400_naming_the_field(api, phone):
    response = send_code(api, phone, "register")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "phone" in body["fields"]
    assert not Message.objects.exists()


def test_only_public_purposes_are_accepted(api):
    response = send_code(api, PHONE, "assisted")

    assert response.status_code == 400
    assert "purpose" in response.json()["fields"]


def test_second_code_within_a_minute_is_rate_limited(api, outbox):
    assert send_code(api, PHONE, "register").status_code == 201

    response = send_code(api, PHONE, "register")

    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert body["fields"] == {"phone": [body["detail"]]}
    assert len(outbox.messages(PHONE)) == 1


def test_register_code_for_a_registered_number_is_a_conflict(api, alice):
    response = send_code(api, alice.phone, "register")

    assert response.status_code == 409
    assert "phone" in response.json()["fields"]


def test_login_code_for_an_unknown_number_is_refused(api):
    response = send_code(api, PHONE, "login")

    assert response.status_code == 400
    assert response.json()["code"] == "not_registered"


# --------------------------------------------------------------------------------------- registration


def test_register_returns_a_working_token(api, outbox):
    send_code(api, PHONE, "register")

    response = api.post(
        reverse("api:auth-register"),
        {"phone": PHONE, "code": outbox.code(PHONE), "name": "赵师傅", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["user"]["phone"] == PHONE
    assert body["user"]["role"] == "seeker"
    assert body["expiry"]
    user = User.objects.get(phone=PHONE)
    assert user.check_password(PASSWORD)
    assert user.worker_profile is not None
    me = with_token(body["token"]).get(reverse("api:me"))
    assert me.status_code == 200
    assert me.json()["id"] == user.pk


def test_register_with_a_wrong_code_creates_nothing(api, outbox):
    send_code(api, PHONE, "register")
    wrong = "000000" if outbox.code(PHONE) != "000000" else "111111"

    response = api.post(reverse("api:auth-register"), {"phone": PHONE, "code": wrong}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "wrong_code"
    assert "code" in response.json()["fields"]
    assert not User.objects.filter(phone=PHONE).exists()


def test_register_with_a_weak_password_is_refused(api, outbox):
    send_code(api, PHONE, "register")

    response = api.post(
        reverse("api:auth-register"),
        {"phone": PHONE, "code": outbox.code(PHONE), "password": "123"},
        format="json",
    )

    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(phone=PHONE).exists()


def test_staff_role_cannot_be_self_registered(api, outbox):
    send_code(api, PHONE, "register")

    response = api.post(
        reverse("api:auth-register"),
        {"phone": PHONE, "code": outbox.code(PHONE), "role": "staff"},
        format="json",
    )

    assert response.status_code == 400
    assert "role" in response.json()["fields"]
    # the code was not spent on a refused request
    assert PhoneCode.objects.get(phone=PHONE).used_at is None


def test_malformed_json_is_a_400_not_a_500(api):
    response = api.post(reverse("api:auth-register"), data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# ---------------------------------------------------------------------------------------------- login


def test_login_with_password(api, alice):
    response = login(api, "+86 " + alice.phone, password=PASSWORD)

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == alice.pk
    assert AuthToken.objects.filter(user=alice).count() == 1
    assert with_token(body["token"]).get(reverse("api:me")).status_code == 200
    alice.refresh_from_db()
    assert alice.last_login is not None


def test_login_with_sms_code(api, alice, outbox):
    send_code(api, alice.phone, "login")

    response = login(api, alice.phone, code=outbox.code(alice.phone))

    assert response.status_code == 200
    assert response.json()["user"]["id"] == alice.pk


def test_wrong_password_is_invalid_credentials(api, alice):
    response = login(api, alice.phone, password="not-the-password")

    assert response.status_code == 400
    assert response.json() == {"code": "invalid_credentials", "detail": "手机号或密码不正确", "fields": {}}


def test_wrong_code_is_invalid_credentials(api, alice, outbox):
    send_code(api, alice.phone, "login")
    wrong = "000000" if outbox.code(alice.phone) != "000000" else "111111"

    response = login(api, alice.phone, code=wrong)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_inactive_user_cannot_log_in(api, alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert login(api, alice.phone, password=PASSWORD).status_code == 400


@pytest.mark.parametrize("secret", [{}, {"password": PASSWORD, "code": "123456"}])
def test_login_needs_exactly_one_secret(api, alice, secret):
    response = login(api, alice.phone, **secret)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_repeated_failures_lock_the_number_out_even_for_the_right_password(api, alice, bob):
    limit = settings.AXES_FAILURE_LIMIT
    # The number is counted however it is typed.
    spellings = [alice.phone, "+86 " + alice.phone, "0086" + alice.phone]
    statuses = [
        login(api, spellings[i % len(spellings)], password=f"wrong-{i}").status_code for i in range(limit)
    ]

    assert statuses[:-1] == [400] * (limit - 1)
    assert statuses[-1] == 429
    response = login(api, alice.phone, password=PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "locked_out"
    assert body["fields"] == {}
    assert not AuthToken.objects.filter(user=alice).exists()
    # Counted under the normalised number (axes also counts the refused attempt during the lock-out).
    assert AccessAttempt.objects.get(username=alice.phone).failures_since_start >= limit
    # The lock-out is per number, not per address: a hall's shared kiosk still serves bob.
    assert login(api, bob.phone, password=PASSWORD).status_code == 200


def test_code_login_still_works_while_password_login_is_locked_out(api, alice, outbox):
    """Anyone can type wrong passwords for any number: that must never keep the worker from signing in by
    the code sent to their own phone (which lifts the lock-out, as the phone is proven)."""
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(api, alice.phone, password=f"wrong-{i}")
    assert login(api, alice.phone, password=PASSWORD).json()["code"] == "locked_out"
    send_code(api, alice.phone, "login")

    response = login(api, alice.phone, code=outbox.code(alice.phone))

    assert response.status_code == 200 and response.json()["token"]
    assert login(api, alice.phone, password=PASSWORD).status_code == 200  # lock lifted


def test_wrong_codes_do_not_lock_the_number(api, alice, outbox):
    send_code(api, alice.phone, "login")
    code = outbox.code(alice.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(api, alice.phone, code=wrong).json()["code"] == "invalid_credentials"
    assert login(api, alice.phone, password=PASSWORD).status_code == 200
    assert not AccessAttempt.objects.filter(username=alice.phone).exists()


def test_a_successful_login_resets_the_failure_count(api, alice):
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        login(api, alice.phone, password=f"wrong-{i}")
    assert login(api, alice.phone, password=PASSWORD).status_code == 200

    assert login(api, alice.phone, password="wrong-again").status_code == 400
    assert login(api, alice.phone, password=PASSWORD).status_code == 200


# --------------------------------------------------------------------------------------------- logout


def test_logout_revokes_only_the_current_token(api, alice):
    first = login(api, alice.phone, password=PASSWORD).json()["token"]
    second = login(api, alice.phone, password=PASSWORD).json()["token"]

    response = with_token(first).post(reverse("api:auth-logout"))

    assert response.status_code == 204
    assert with_token(first).get(reverse("api:me")).status_code == 401
    assert with_token(second).get(reverse("api:me")).status_code == 200


def test_logout_all_revokes_every_token(api, alice):
    first = login(api, alice.phone, password=PASSWORD).json()["token"]
    second = login(api, alice.phone, password=PASSWORD).json()["token"]

    assert with_token(second).post(reverse("api:auth-logout-all")).status_code == 204

    assert with_token(first).get(reverse("api:me")).status_code == 401
    assert not AuthToken.objects.filter(user=alice).exists()


def test_logout_without_a_token_is_401(api):
    response = api.post(reverse("api:auth-logout"))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# ------------------------------------------------------------------------------------- password reset


def test_password_reset_by_code(api, alice, outbox):
    send_code(api, alice.phone, "reset")

    response = api.post(
        reverse("api:auth-password-reset"),
        {"phone": alice.phone, "code": outbox.code(alice.phone), "new_password": "Fresh-pass-2027"},
        format="json",
    )

    assert response.status_code == 204
    assert login(api, alice.phone, password="Fresh-pass-2027").status_code == 200
    assert login(api, alice.phone, password=PASSWORD).status_code == 400


def test_password_reset_with_a_wrong_code_keeps_the_old_password(api, alice, outbox):
    send_code(api, alice.phone, "reset")
    wrong = "000000" if outbox.code(alice.phone) != "000000" else "111111"

    response = api.post(
        reverse("api:auth-password-reset"),
        {"phone": alice.phone, "code": wrong, "new_password": "Fresh-pass-2027"},
        format="json",
    )

    assert response.status_code == 400
    assert "code" in response.json()["fields"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


# ------------------------------------------------------------------------------------ authentication


@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("get", "api:me", {}),
        ("patch", "api:me", {}),
        ("get", "api:me-profile", {}),
        ("put", "api:me-profile", {}),
        ("get", "api:me-realname", {}),
        ("post", "api:me-realname", {}),
        ("get", "api:employer-list", {}),
        ("post", "api:employer-list", {}),
        ("get", "api:employer-detail", {"pk": 1}),
        ("get", "api:employer-members", {"pk": 1}),
        ("get", "api:certificate-list", {}),
        ("post", "api:certificate-list", {}),
        ("get", "api:certificate-detail", {"pk": 1}),
        ("get", "api:staff-realname-list", {}),
        ("post", "api:staff-realname-unmask", {"pk": 1}),
        ("get", "api:staff-employer-list", {}),
        ("get", "api:staff-certificate-list", {}),
        ("post", "api:staff-assisted-registrations", {}),
    ],
)
def test_anonymous_requests_are_401(api, method, name, kwargs):
    response = getattr(api, method)(reverse(name, kwargs=kwargs), {}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_token_in_use_is_renewed_at_most_once_an_hour(alice):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        auth_token, token = AuthToken.objects.create(user=alice)
    made = auth_token.expiry
    for minutes in (1, 30, 59):  # used within the hour: no write, the 30 days still count from creation
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert with_token(token).get(reverse("api:me")).status_code == 200
        auth_token.refresh_from_db()
        assert auth_token.expiry == made
    later = start + dt.timedelta(minutes=61)
    with time_machine.travel(later, tick=False):
        assert with_token(token).get(reverse("api:me")).status_code == 200
    auth_token.refresh_from_db()
    assert auth_token.expiry == later + dt.timedelta(days=30)
