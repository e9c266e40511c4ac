"""Real headless Chromium (system package, never `playwright install`) driven by Playwright's sync API.

One-time codes: the outbox rows keep them redacted, so a browser test reads a code from the phone it was
sent to, ``tests.phones.code(phone)`` (the live server delivers through the ``outbox`` backend to the
simulated phone, which the suite's autouse fixture records; see tests/phones.py)."""

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
