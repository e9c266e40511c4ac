"""Two factors for staff and mediators: enrolment, verification, recovery codes, throttling, the gate on
every staff page and the staff API, the audited reset, and the 30-minute idle rule. Tests log in with
``raw_client`` (the password/SMS step only) wherever the second factor is what they test."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.apps import apps as django_apps
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import second_factor, services
from accounts.models import User
from core.errors import NotAllowed
from core.models import AuditLog
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "Gig-pass-2026"  # tests/factories.py
START = dt.datetime(2026, 12, 7, 9, 0, 5, tzinfo=dt.UTC)
ENROL = reverse("accounts:second_factor_enrol")
VERIFY = reverse("accounts:second_factor_verify")


def code_now(device: TOTPDevice) -> str:
    """What the authenticator app shows at this (possibly travelled) moment."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(code_now(device)) + 1) % 1_000_000:06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator and recovery codes, made through the services (not the test client)."""
    device = second_factor.totp_enrolment_start(user=user)
    return second_factor.totp_enrolment_confirm(user=user, code=code_now(device))


def redirect_target(response) -> tuple[str, str]:
    parts = urlsplit(response["Location"])
    return parts.path, parse_qs(parts.query).get("next", [""])[0]


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as machine:
        yield machine


@pytest.fixture
def mediator(db):
    return factories.UserFactory(phone="13900000031", name="吴调解", role=User.Role.MEDIATOR)


@pytest.fixture
def superuser(db):
    return factories.UserFactory(
        phone="13900000001", name="管理员", role=User.Role.STAFF, is_staff=True, is_superuser=True
    )


@pytest.fixture
def dashboard_staff(staff):
    staff.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    return type(staff).objects.get(pk=staff.pk)


# ------------------------------------------------------------------------------------------- who


def test_staff_superusers_and_mediators_need_it_seekers_and_employers_do_not(
    staff, mediator, superuser, alice
):
    employer = factories.UserFactory(phone="13700000001", role=User.Role.EMPLOYER)
    assert second_factor.needs_second_factor(staff)
    assert second_factor.needs_second_factor(mediator)
    assert second_factor.needs_second_factor(superuser)
    assert not second_factor.needs_second_factor(alice)
    assert not second_factor.needs_second_factor(employer)
    assert not second_factor.needs_second_factor(AnonymousUser())


# ----------------------------------------------------------------------------------- the console


def test_admin_sends_staff_without_a_device_to_enrolment(raw_client, staff):
    raw_client.force_login(staff)
    response = raw_client.get("/admin/")
    assert response.status_code == 302
    assert redirect_target(response) == (ENROL, "/admin/")


def test_admin_sends_enrolled_staff_to_verification_until_they_pass(raw_client, staff, traveller):
    device, _ = enrolled(staff)
    raw_client.force_login(staff)
    response = raw_client.get("/admin/accounts/realname/")
    assert redirect_target(response) == (VERIFY, "/admin/accounts/realname/")

    traveller.shift(31)  # the enrolment used this 30-second step's code
    response = raw_client.post(VERIFY, {"code": code_now(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert raw_client.get("/admin/").status_code == 200


def test_admin_site_itself_refuses_a_session_without_the_second_factor(staff):
    """Defence in depth: even past the middleware, the console's site checks the session's device."""
    device, _ = enrolled(staff)
    request = RequestFactory().get("/admin/")
    request.user = staff
    request.session = SessionStore()
    assert not admin.site.has_permission(request)

    request = RequestFactory().get("/admin/")
    request.user = staff
    request.session = SessionStore()
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    assert admin.site.has_permission(request)

    other = factories.UserFactory(phone="13900000077", role=User.Role.STAFF, is_staff=True)
    other_device, _ = enrolled(other)
    request = RequestFactory().get("/admin/")
    request.user = staff
    request.session = SessionStore()
    request.session[DEVICE_ID_SESSION_KEY] = other_device.persistent_id  # someone else's device
    assert not admin.site.has_permission(request)


def test_password_login_to_the_console_then_enrolment_end_to_end(raw_client, staff, traveller):
    response = raw_client.post("/admin/login/?next=/admin/", {"username": staff.phone, "password": PASSWORD})
    assert response.status_code == 302
    response = raw_client.get(response["Location"])
    assert redirect_target(response) == (ENROL, "/admin/")

    page = raw_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "the QR code page carries no inline script"
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    secret = second_factor.secret_in_groups(device)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", secret)
    assert secret in html

    # A wrong code: a clear error on the field, nothing confirmed, and the device throttled.
    response = raw_client.post(ENROL, {"code": wrong_code(device), "next": "/admin/"})
    assert response.status_code == 200
    assert "验证码不正确" in response.context["form"].errors["code"][0]
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1

    traveller.shift(2)
    response = raw_client.post(ENROL, {"code": code_now(device), "next": "/admin/"})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    html = response.content.decode()
    assert all(f"{code[:4]} {code[4:]}" in html for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=staff).count() == 10

    assert raw_client.get("/admin/").status_code == 200
    # Enrolment is over: the page no longer shows a key, it sends to verification.
    assert raw_client.get(ENROL)["Location"].startswith(VERIFY)


def test_sms_code_login_of_an_enrolled_mediator_goes_to_verification(raw_client, mediator, outbox, traveller):
    device, _ = enrolled(mediator)
    services.phone_code_send(phone=mediator.phone, purpose="login")
    response = raw_client.post(
        reverse("accounts:login"),
        {
            "way": "code",
            "phone": mediator.phone,
            "code": outbox.code(mediator.phone),
            "next": "/disputes/mediator/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/disputes/mediator/"
    response = raw_client.get("/disputes/mediator/")
    assert redirect_target(response) == (VERIFY, "/disputes/mediator/")
    page = raw_client.get(response["Location"])
    assert "二次验证" in page.content.decode()
    traveller.shift(31)
    response = raw_client.post(VERIFY, {"code": code_now(device), "next": "/disputes/mediator/"})
    assert response["Location"] == "/disputes/mediator/"
    assert raw_client.get("/disputes/mediator/").status_code == 200


def test_full_width_and_spaced_codes_are_accepted(raw_client, staff, traveller):
    device, _ = enrolled(staff)
    traveller.shift(31)
    raw_client.force_login(staff)
    code = code_now(device)
    typed = " ".join(chr(ord(c) + 0xFEE0) for c in code)  # "１ ２ ３ …"
    response = raw_client.post(VERIFY, {"code": typed})
    assert response.status_code == 302


def test_wrong_codes_are_throttled_with_a_clear_field_error(raw_client, staff, traveller):
    device, _ = enrolled(staff)
    traveller.shift(31)
    raw_client.force_login(staff)

    response = raw_client.post(VERIFY, {"code": "12ab"})
    assert response.context["form"].errors["code"] == ["请输入身份验证器上的6位数字，或一个8位恢复码"]

    response = raw_client.post(VERIFY, {"code": wrong_code(device)})
    assert response.context["form"].errors["code"][0].startswith("验证码不正确")
    traveller.shift(1.5)
    raw_client.post(VERIFY, {"code": wrong_code(device)})  # a second failure: now 2 seconds to wait
    traveller.shift(0.5)
    response = raw_client.post(VERIFY, {"code": wrong_code(device)})
    errors = response.context["form"].errors["code"]
    assert re.fullmatch(r"错误次数太多，请\d+秒后再试", errors[0]), errors
    # Even the right code waits out the throttle…
    response = raw_client.post(VERIFY, {"code": code_now(device)})
    assert "错误次数太多" in response.context["form"].errors["code"][0]
    assert redirect_target(raw_client.get("/admin/"))[0] == VERIFY
    # …and then works.
    traveller.shift(5)
    assert raw_client.post(VERIFY, {"code": code_now(device)}).status_code == 302
    assert raw_client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(staff, traveller):
    _, codes = enrolled(staff)
    first = Client()
    first.force_login(staff)
    response = first.post(VERIFY, {"code": codes[0].upper(), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert first.get("/admin/").status_code == 200

    second = Client()
    second.force_login(staff)
    response = second.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["恢复码不正确或已经用过"]
    assert second_factor.recovery_codes_left(user=staff) == 9
    traveller.shift(5)
    assert second.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_recovery_codes_can_be_made_again_with_the_authenticator(client, staff, traveller):
    device, old = enrolled(staff)
    client.force_login(staff)
    traveller.shift(31)
    response = client.post(reverse("accounts:second_factor_recovery"), {"code": code_now(device)})
    new = response.context["codes"]
    assert len(new) == 10
    assert not StaticToken.objects.filter(token__in=old).exists()
    assert StaticToken.objects.filter(device__user=staff).count() == 10


# ------------------------------------------------------------------------------ every staff page


STAFF_PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    reverse("hall:dashboard"),
    reverse("disputes:staff_cases"),
    reverse("disputes:mediator_cases"),
    reverse("outreach:staff_followups"),
    reverse("outreach:import_upload"),
    reverse("wallet:arrears"),
    reverse("jobs:post_on_behalf"),
    reverse("accounts:assisted_register"),
    reverse("notifications:inbox"),
    reverse("home"),
    "/media/licences/any.png",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_every_page_waits_for_the_second_factor(raw_client, staff, path):
    raw_client.force_login(staff)
    response = raw_client.get(path)
    assert response.status_code == 302
    assert redirect_target(response) == (ENROL, path)


def test_mediator_desk_is_gated(raw_client, client, mediator):
    desk = reverse("disputes:mediator_cases")
    raw_client.force_login(mediator)
    assert redirect_target(raw_client.get(desk)) == (ENROL, desk)
    client.force_login(mediator)  # the test client that passes the second factor
    assert client.get(desk).status_code == 200


def test_hall_dashboard_is_gated(raw_client, dashboard_staff, traveller):
    dashboard = reverse("hall:dashboard")
    device, _ = enrolled(dashboard_staff)
    raw_client.force_login(dashboard_staff)
    assert redirect_target(raw_client.get(dashboard)) == (VERIFY, dashboard)
    traveller.shift(31)
    response = raw_client.post(VERIFY, {"code": code_now(device), "next": dashboard})
    assert response["Location"] == dashboard
    assert raw_client.get(dashboard).status_code == 200


def test_open_pages_for_an_unverified_staff_member_are_only_the_second_factor_and_logout(raw_client, staff):
    raw_client.force_login(staff)
    assert raw_client.get(ENROL).status_code == 200
    assert raw_client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in raw_client.session


# ---------------------------------------------------------------------------------------- the API


def test_staff_api_refuses_a_session_without_the_second_factor(raw_client, staff):
    raw_client.force_login(staff)
    response = raw_client.get(reverse("api:staff-realname-list"))
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"


def test_staff_api_accepts_a_session_that_passed_it(client, staff):
    client.force_login(staff)
    assert client.get(reverse("api:staff-realname-list")).status_code == 200


def login_api(**data):
    return APIClient().post(reverse("api:auth-login"), data, format="json")


def test_staff_token_login_requires_the_authenticator_code(staff, traveller):
    response = login_api(phone=staff.phone, password=PASSWORD)
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_enrolment_required"

    device, _ = enrolled(staff)
    traveller.shift(31)
    response = login_api(phone=staff.phone, password=PASSWORD)
    assert response.status_code == 400
    assert response.json()["code"] == "second_factor_required"
    assert "otp_code" in response.json()["fields"]

    response = login_api(phone=staff.phone, password=PASSWORD, otp_code=wrong_code(device))
    assert response.status_code == 400
    assert response.json()["fields"]["otp_code"][0].startswith("验证码不正确")
    assert not AuthToken.objects.filter(user=staff).exists()

    traveller.shift(2)
    response = login_api(phone=staff.phone, password=PASSWORD, otp_code=code_now(device))
    assert response.status_code == 200
    token = response.json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    realnames = reverse("api:staff-realname-list")
    assert api.get(realnames).status_code == 200

    # The token ends after 30 minutes unused, like a staff session.
    traveller.shift(29 * 60)
    assert api.get(realnames).status_code == 200
    traveller.shift(29 * 60)
    assert api.get(realnames).status_code == 200
    traveller.shift(31 * 60)
    assert api.get(realnames).status_code == 401


def test_mediator_token_login_requires_the_code_too(mediator):
    mediator.set_password(PASSWORD)
    mediator.save()
    assert login_api(phone=mediator.phone, password=PASSWORD).status_code == 403


def test_seeker_token_login_is_unchanged(alice, traveller):
    response = login_api(phone=alice.phone, password=PASSWORD)
    assert response.status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    traveller.shift(dt.timedelta(hours=5))
    assert api.get(reverse("api:me")).status_code == 200
    assert not TOTPDevice.objects.filter(user=alice).exists()


def test_staff_tokens_from_before_the_second_factor_end_with_the_migration(staff, mediator, alice):
    for user in (staff, mediator, alice):
        AuthToken.objects.create(user=user)
    migration = importlib.import_module("accounts.migrations.0007_end_staff_tokens_without_second_factor")
    migration.end_staff_tokens(django_apps, None)
    assert list(AuthToken.objects.values_list("user_id", flat=True)) == [alice.pk]


# -------------------------------------------------------------------------------------- the reset


def reset_through_admin(client, user, reason="本人来电称手机丢失，已核对身份"):
    return client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [user.pk], "post": "yes", "reason": reason},
    )


def test_superuser_resets_a_lost_device_audited_and_the_staff_member_enrols_again(
    client, superuser, staff, traveller
):
    device, _ = enrolled(staff)
    AuthToken.objects.create(user=staff)
    traveller.shift(31)
    staff_browser = Client()
    staff_browser.force_login(staff)
    assert staff_browser.post(VERIFY, {"code": code_now(device)}).status_code == 302
    assert staff_browser.get("/admin/").status_code == 200

    traveller.shift(60)
    client.force_login(superuser)
    # The first POST asks for the reason; an empty one changes nothing.
    assert reset_through_admin(client, staff, reason="  ").status_code == 200
    assert TOTPDevice.objects.filter(user=staff).exists()
    response = reset_through_admin(client, staff)
    assert response.status_code == 302

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    assert not AuthToken.objects.filter(user=staff).exists()
    log = AuditLog.objects.get(action=AuditLog.Action.RESET_SECOND_FACTOR)
    assert (log.actor_id, log.target_type, log.target_id) == (superuser.pk, "accounts.user", str(staff.pk))
    assert log.reason == "本人来电称手机丢失，已核对身份"

    # The staff member's open session ends (whoever holds it cannot enrol a new device)…
    traveller.shift(5)
    response = staff_browser.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in staff_browser.session
    # …and the next login enrols afresh.
    staff_browser.post("/admin/login/", {"username": staff.phone, "password": PASSWORD})
    assert redirect_target(staff_browser.get("/admin/"))[0] == ENROL


def test_ordinary_staff_cannot_reset_even_with_user_permissions(client, staff, mediator):
    enrolled(mediator)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    staff = type(staff).objects.get(pk=staff.pk)
    client.force_login(staff)
    changelist = client.get(reverse("admin:accounts_user_changelist"))
    assert changelist.status_code == 200
    assert "reset_second_factor" not in changelist.content.decode()
    reset_through_admin(client, mediator)
    assert TOTPDevice.objects.filter(user=mediator, confirmed=True).exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.RESET_SECOND_FACTOR).exists()
    with pytest.raises(NotAllowed):
        second_factor.second_factor_reset(actor=staff, user=mediator, reason="手机丢失")
    assert TOTPDevice.objects.filter(user=mediator, confirmed=True).exists()


# --------------------------------------------------------------------------------- idle sessions


def test_staff_session_ends_after_30_minutes_idle(client, dashboard_staff, traveller):
    dashboard = reverse("hall:dashboard")
    client.force_login(dashboard_staff)
    assert client.get(dashboard).status_code == 200
    traveller.shift(29 * 60)
    assert client.get(dashboard).status_code == 200
    traveller.shift(29 * 60)  # 58 minutes after login, but never 30 idle
    assert client.get(dashboard).status_code == 200
    traveller.shift(31 * 60)
    response = client.get(dashboard)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    follow = client.get(response["Location"])
    assert "超过30分钟没有操作" in follow.content.decode()


def test_mediator_session_ends_after_30_minutes_idle_in_the_api_too(client, mediator, traveller):
    client.force_login(mediator)
    assert client.get(reverse("api:me")).status_code == 200
    traveller.shift(31 * 60)
    response = client.get(reverse("api:me"))
    assert response.status_code == 401
    assert response.json()["code"] == "session_ended"


def test_seekers_and_employers_keep_their_sessions_and_login(raw_client, alice, traveller):
    employer = factories.UserFactory(phone="13700000001", role=User.Role.EMPLOYER)
    response = raw_client.post(
        reverse("accounts:login"), {"way": "password", "phone": alice.phone, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert raw_client.get(reverse("accounts:profile")).status_code == 200
    traveller.shift(dt.timedelta(hours=3))
    assert raw_client.get(reverse("accounts:profile")).status_code == 200

    other = Client()
    other.force_login(employer)
    traveller.shift(dt.timedelta(hours=3))
    assert other.get(reverse("jobs:my_posts")).status_code == 200
    assert not TOTPDevice.objects.exists()
