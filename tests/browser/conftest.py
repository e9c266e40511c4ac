"""Real headless Chromium (system package, never `playwright install`) driven by Playwright's sync API.

One-time codes: the outbox rows keep them redacted, so a browser test reads a code from the phone it was
sent to, ``tests.phones.code(phone)`` (the live server delivers through the ``outbox`` backend to the
simulated phone, which the suite's autouse fixture records; see tests/phones.py).

Every browser test also runs under a Content-Security-Policy watch (:func:`csp_guard`): a test fails if
any page it opened reported a violation, logged one to the console, threw an uncaught error, or was an
HTML page served without the policy. The same watch runs axe-core (vendored in ``vendor/``, see
``vendor/README.md``) on every page of ours once it has loaded, and fails the test on any serious or
critical accessibility violation."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

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


# Runs in every frame before the page's own scripts: each securitypolicyviolation event is kept on the
# page (window.__cspViolations, for a reader in devtools) and handed to the test at once through a
# binding, so a violation on a page the test has since left is not lost.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const violation = {
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    document: event.documentURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  };
  window.__cspViolations.push(violation);
  if (window.__recordCspViolation) window.__recordCspViolation(violation);
});
"""
# Console text Chromium writes when a policy refuses something, or when our policy headers are malformed.
_CONSOLE_PROBLEMS = (
    "content security policy",
    "content-security-policy",
    "permissions-policy",
    "permissions policy",
)
CSP_PAGES = ARTIFACTS / "csp-pages.txt"

# axe-core on every page: the library goes in as an init script (through the DevTools protocol, so the
# page's CSP does not apply to it), and a second init script runs it when the page has loaded and hands the
# serious and critical violations to the test through a binding. The staff console (/admin/) and the API
# docs (/api/) are Django's and Swagger UI's markup, not ours, and are left out. ``window.__axeDone``
# settles when the run is over (the watch waits for it before a context closes; a test that needs the
# verdict of one page before it moves on calls :func:`axe_wait`).
AXE_SOURCE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
AXE_IMPACTS = ("serious", "critical")
_AXE_RUNNER = """
(() => {
  if (window.top !== window || typeof axe === "undefined") return;
  if (/^\\/(admin|api)\\//.test(location.pathname)) return;
  window.__axeDone = new Promise((resolve) => {
    window.addEventListener("load", () => setTimeout(() => {
      if (document.contentType !== "text/html") return resolve([]);
      axe.run(document, { resultTypes: ["violations"] }).then((result) => {
        const bad = result.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
        if (bad.length && window.__recordAxe) window.__recordAxe({ page: location.pathname, violations: bad });
        resolve(bad);
      }, (error) => resolve([{ id: "axe-error", impact: "critical", help: String(error), nodes: [] }]));
    }, 0));
  });
})();
"""


def axe_wait(page) -> list:
    """Wait for axe's run on the page now shown; returns its serious/critical violations (also recorded)."""
    return page.evaluate(
        "() => window.__axeDone ? Promise.race([window.__axeDone, new Promise((r) => setTimeout(() => r([]), 20000))]) : []"
    )


class CspWatch:
    """What the pages of one test did that the policy (or a reader of the console) would object to."""

    def __init__(self):
        self.violations: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        self.unprotected: list[str] = []
        self.accessibility: list[str] = []
        self.pages: list[str] = []  # every HTML document the test's browser loaded, in order
        self._open_pages = []

    def watch_context(self, context) -> None:
        context.expose_binding(
            "__recordCspViolation",
            lambda source, v: self.violations.append(json.dumps(v, ensure_ascii=False)),
        )
        context.add_init_script(script=_CSP_LISTENER)
        context.expose_binding("__recordAxe", lambda source, found: self._on_axe(found))
        context.add_init_script(script=AXE_SOURCE)
        context.add_init_script(script=_AXE_RUNNER)
        context.on("page", self.watch_page)

    def watch_page(self, page) -> None:
        self._open_pages.append(page)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("response", self._on_response)

    def _on_axe(self, found: dict) -> None:
        for v in found.get("violations", []):
            self.accessibility.append(
                f"{found.get('page')}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
            )

    def _on_console(self, message) -> None:
        if any(word in message.text.lower() for word in _CONSOLE_PROBLEMS):
            self.console.append(f"{message.type}: {message.text}")

    def _on_response(self, response) -> None:
        if response.request.resource_type != "document" or response.status in (301, 302, 303, 307, 308):
            return
        headers = response.headers  # lower-cased names
        if not headers.get("content-type", "").startswith("text/html"):
            return
        parts = urlsplit(response.url)
        self.pages.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        policy = headers.get("content-security-policy", "")
        if "'nonce-" not in policy or "object-src 'none'" not in policy:
            self.unprotected.append(f"{response.url}: {policy or '(no Content-Security-Policy)'}")

    def settle(self) -> None:
        """Let the browser deliver what it has queued: a violation's event and binding call are async."""
        for page in self._open_pages:
            if not page.is_closed():
                # A page closing or navigating has nothing more to wait for.
                with contextlib.suppress(Exception):
                    axe_wait(page)
                    page.evaluate("() => new Promise((done) => setTimeout(done, 50))")

    def problems(self) -> list[str]:
        return (
            [f"CSP violation: {v}" for v in self.violations]
            + [f"console: {c}" for c in self.console]
            + [f"uncaught error: {e}" for e in self.errors]
            + [f"HTML page without the policy: {u}" for u in self.unprotected]
            + [f"accessibility (axe-core): {a}" for a in dict.fromkeys(self.accessibility)]
        )


@pytest.fixture(autouse=True)
def csp_guard(browser, request):
    """Watches every context the test opens (``new_page`` or ``browser.new_context``); fails the test on
    any Content-Security-Policy violation, policy console message or uncaught page error. The pages
    visited are appended to test-artifacts/csp-pages.txt (which pages the check covered)."""
    watch = CspWatch()
    original_new_context = browser.new_context
    contexts = []

    def new_context(*args, **kwargs):
        context = original_new_context(*args, **kwargs)
        watch.watch_context(context)
        original_close = context.close

        def close(*close_args, **close_kwargs):
            watch.settle()
            return original_close(*close_args, **close_kwargs)

        context.close = close
        contexts.append(context)
        return context

    browser.new_context = new_context
    try:
        yield watch
        watch.settle()
    finally:
        del browser.new_context  # the instance attribute goes; the class's method shows again
    ARTIFACTS.mkdir(exist_ok=True)
    with CSP_PAGES.open("a", encoding="utf-8") as out:
        for path in dict.fromkeys(watch.pages):
            out.write(f"{request.node.nodeid}\t{path}\n")
    problems = watch.problems()
    assert not problems, "\n".join(problems)
    assert watch.pages, "the test loaded no HTML page, so the CSP watch saw nothing"


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
    # The password form's submit is still navigating when the click returns: wait until the browser is
    # on a second-factor page (enrol or verify) before looking at where it landed, or a reload races it.
    page.wait_for_url(re.compile(r"/2fa/(verify|enrol)/"), wait_until="load")
    if "/2fa/verify/" not in page.url:
        page.reload()
    expect(page.get_by_role("heading", name="二次验证")).to_be_visible()
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("heading", name="二次验证")).to_have_count(0)
