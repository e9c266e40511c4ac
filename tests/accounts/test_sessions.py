"""退出所有设备 ends every session of the user, web and API; a new password (changed or reset by code, on a
page, through the API or in the staff console) ends every other session and token and keeps the caller's."""

from __future__ import annotations

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from accounts.second_factor import needs_second_factor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Gig-pass-2026"  # tests/factories.py
NEW_PASSWORD = "New-pass-2027"


def authenticator(user) -> str:
    """For staff: the code their authenticator shows now (one is made if they have none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="测试身份验证器", confirmed=True)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def recovery_code(user) -> str:
    """For staff: one of their recovery codes (a TOTP code is accepted once per 30 seconds, so a second
    login in the same half-minute uses one of these, as a person with two devices at hand might)."""
    device = StaticDevice.objects.get_or_create(user=user, name="恢复码", defaults={"confirmed": True})[0]
    token = StaticToken.random_token()
    device.token_set.create(token=token)
    return token


def web_login(user, password: str = PASSWORD) -> Client:
    """A browser that signed in through the login page (a real session, as a phone would hold); staff
    also pass the second factor page."""
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"way": "password", "phone": user.phone, "password": password}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    if needs_second_factor(user):
        response = client.post(reverse("accounts:second_factor_verify"), {"code": authenticator(user)})
        assert response.status_code == 302, response.content.decode()[:500]
    return client


def api_login(user, password: str = PASSWORD) -> APIClient:
    data = {"phone": user.phone, "password": password}
    if needs_second_factor(user):
        data["otp_code"] = recovery_code(user)
    response = APIClient().post(reverse("api:auth-login"), data, format="json")
    assert response.status_code == 200, response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def signed_in_web(client: Client) -> bool:
    return client.get(reverse("accounts:security")).status_code == 200


def signed_in_api(client: APIClient) -> bool:
    return client.get(reverse("api:me")).status_code == 200


def test_logout_all_from_the_api_ends_web_sessions_too(alice, bob):
    phone_browser, office_browser = web_login(alice), web_login(alice)
    app, kiosk_app = api_login(alice), api_login(alice)
    bobs = web_login(bob)

    assert app.post(reverse("api:auth-logout-all")).status_code == 204

    assert not signed_in_web(phone_browser) and not signed_in_web(office_browser)
    assert not signed_in_api(app) and not signed_in_api(kiosk_app)
    assert signed_in_web(bobs)  # nobody else's
    # Signing in again works as before.
    assert signed_in_web(web_login(alice)) and signed_in_api(api_login(alice))


def test_logout_all_from_the_page_ends_every_session_and_token(alice):
    here, elsewhere = web_login(alice), web_login(alice)
    app = api_login(alice)

    response = here.post(reverse("accounts:logout_all"))

    assert response.status_code == 302
    assert not signed_in_web(here) and not signed_in_web(elsewhere) and not signed_in_api(app)
    assert not AuthToken.objects.filter(user=alice).exists()


def test_logout_all_needs_a_post_and_a_signed_in_user(alice):
    client = web_login(alice)
    assert client.get(reverse("accounts:logout_all")).status_code == 405
    assert Client().post(reverse("accounts:logout_all")).status_code == 302  # to the login page
    assert signed_in_web(client)


def test_security_page_links_from_home_and_offers_both(alice):
    client = web_login(alice)
    assert reverse("accounts:security") in client.get(reverse("home")).content.decode()
    page = client.get(reverse("accounts:security")).content.decode()
    assert "修改密码" in page and "退出所有设备" in page


def test_password_change_on_the_page_keeps_this_session_and_ends_the_others(alice):
    here, elsewhere = web_login(alice), web_login(alice)
    app = api_login(alice)

    response = here.post(
        reverse("accounts:security"),
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert signed_in_web(here)
    assert not signed_in_web(elsewhere) and not signed_in_api(app)
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_password_change_with_a_wrong_old_password_changes_nothing(alice):
    here, elsewhere = web_login(alice), web_login(alice)
    response = here.post(
        reverse("accounts:security"),
        {"old_password": "not-my-password", "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200 and "原密码不正确" in response.content.decode()
    assert signed_in_web(elsewhere)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_code_only_account_sets_its_first_password_by_code_not_by_session(client):
    villager = UserFactory(phone="13800000099", password=None)
    villager.set_unusable_password()
    villager.save()
    client.force_login(villager)
    assert "找回密码" in client.get(reverse("accounts:security")).content.decode()
    with pytest.raises(Exception, match="找回密码"):
        services.password_change(user=villager, old_password="", new_password=NEW_PASSWORD)


def test_password_change_through_the_api_keeps_the_calling_token_only(alice):
    app, other_app = api_login(alice), api_login(alice)
    browser = web_login(alice)

    response = app.post(
        reverse("api:auth-password-change"),
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204
    assert signed_in_api(app)
    assert not signed_in_api(other_app) and not signed_in_web(browser)
    bad = app.post(
        reverse("api:auth-password-change"), {"old_password": PASSWORD, "new_password": "x"}, format="json"
    )
    assert bad.status_code == 400 and "old_password" in bad.json()["fields"]


def test_password_reset_by_code_ends_every_session_and_token(alice, outbox):
    browser, app = web_login(alice), api_login(alice)
    anonymous = Client()
    anonymous.post(reverse("accounts:send_code", args=["reset"]), {"phone": alice.phone})
    response = anonymous.post(
        reverse("accounts:password_reset"),
        {
            "phone": alice.phone,
            "code": outbox.code(alice.phone),
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert not signed_in_web(browser) and not signed_in_api(app)
    assert signed_in_web(web_login(alice, NEW_PASSWORD))


def test_password_reset_while_signed_in_keeps_that_session(alice, outbox):
    here, elsewhere = web_login(alice), web_login(alice)
    here.post(reverse("accounts:send_code", args=["reset"]), {"phone": alice.phone})
    here.post(
        reverse("accounts:password_reset"),
        {
            "phone": alice.phone,
            "code": outbox.code(alice.phone),
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert signed_in_web(here) and not signed_in_web(elsewhere)


def test_a_password_changed_in_the_staff_console_ends_the_staff_members_tokens(staff):
    staff.set_password(PASSWORD)
    staff.save()
    console, app = web_login(staff), api_login(staff)
    response = console.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not signed_in_api(app)
    assert console.get(reverse("admin:index")).status_code == 200  # Django keeps the console's session


def test_existing_sessions_survive_the_epoch_field_until_it_is_raised(alice):
    assert alice.session_epoch == 0
    assert alice.get_session_auth_hash() == AbstractBaseUser.get_session_auth_hash(alice)
    services.user_sessions_end(user=alice)
    alice.refresh_from_db()
    assert alice.session_epoch == 1
    assert alice.get_session_auth_hash() != AbstractBaseUser._get_session_auth_hash(alice)
