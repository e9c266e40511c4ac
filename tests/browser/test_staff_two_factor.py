"""A hall clerk's first login with two factors, at phone width: password on the console's login page, then
the enrolment page (QR code and key), a code from the "app" (computed here from the key the page shows),
the recovery codes once, and the console."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from playwright.sync_api import expect

from tests.factories import ServicePointFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
STAFF_PHONE = "13900000071"
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_first_login_enrols_the_authenticator(live_server, new_page, artifacts):
    staff = UserFactory(
        phone=STAFF_PHONE, name="孙办事", role="staff", is_staff=True, service_point=ServicePointFactory()
    )
    page = new_page()
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.get_by_label("手机号").fill(STAFF_PHONE)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="绑定身份验证器")).to_be_visible()
    expect(page.locator(".otp-qr svg")).to_be_visible()
    assert page.evaluate(FITS)
    page.screenshot(path=artifacts / "staff_2fa_enrol.png", full_page=True)
    secret = page.get_by_label("密钥").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))

    page.get_by_label("验证码").fill("000000" if totp(key) != 0 else "111111")
    page.get_by_role("button", name="确认绑定").click()
    expect(page.locator(".has-error")).to_contain_text("验证码不正确")

    page.wait_for_timeout(1100)  # django-otp's throttle: 1 second after the first wrong code
    page.get_by_label("验证码").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="确认绑定").click()
    expect(page.get_by_role("heading", name="绑定成功 · 请保存恢复码")).to_be_visible()
    shown = page.locator(".recovery-codes li").all_inner_texts()
    assert len(shown) == 10
    stored = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert {code.replace(" ", "") for code in shown} == stored
    assert page.evaluate(FITS)
    page.screenshot(path=artifacts / "staff_2fa_codes.png", full_page=True)

    page.get_by_role("link", name="我已保存，继续").click()
    expect(page.locator("#site-name")).to_be_visible()  # the console
    assert page.url.endswith("/admin/")
