"""Real headless Chromium (system package, never `playwright install`) driven by Playwright's sync API."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests, stopped when they end.

    Playwright's sync API keeps an event loop running in this thread, so Django's ORM needs
    DJANGO_ALLOW_ASYNC_UNSAFE while it lives. The variable is set only for that time: leaked into the
    whole session it would reach subprocesses (``manage.py check --deploy`` flags it)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install the distribution's chromium package (browser tests never skip)"
        )
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """A factory of phone-sized pages, each in its own context (its own cookies: one per person)."""
    contexts = []

    def make():
        context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", device_scale_factor=2)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def authenticator_code(user) -> str:
    """The 6 digits the staff member's authenticator app shows now (their confirmed TOTP device; one is
    made if they have none, as if they had enrolled)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def pass_second_factor(page, user) -> None:
    """After a staff member's or mediator's password login: type the code their authenticator shows on
    the 二次验证 page, as they do, and go on to the page they asked for. (A user made by the test has no
    authenticator yet and lands on enrolment; one is given to them and the page reloaded, which then
    asks for the code.)"""
    from playwright.sync_api import expect

    code = authenticator_code(user)
    if "/2fa/verify/" not in page.url:
        page.reload()
    expect(page.get_by_role("heading", name="二次验证")).to_be_visible()
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("heading", name="二次验证")).to_have_count(0)
