"""Security headers: the Content-Security-Policy on every HTML page (a fresh nonce each time, no inline or
eval script), the Permissions-Policy and Referrer-Policy, and templates that need nothing inline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from core.middleware import ContentSecurityPolicyMiddleware
from tests import factories

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def nonce_of(header: str) -> str:
    (nonce,) = re.findall(r"'nonce-([A-Za-z0-9+/=]+)'", directives(header)["script-src"][-1])
    return nonce


@pytest.fixture
def hall_staff(db, service_point):
    user = factories.UserFactory(
        phone="13900000031", name="陈看板", role="staff", is_staff=True, service_point=service_point
    )
    user.user_permissions.set(Permission.objects.filter(codename="view_dashboard"))
    return user


def html_pages(client, alice, hall_staff, service_point):
    """One page of each area, as the person who uses it."""
    anonymous = [
        reverse("home"),
        reverse("accounts:login"),
        reverse("accounts:register"),
        reverse("jobs:board"),
        reverse("hall:screen", args=[service_point.pk]),
        reverse("hall:kiosk", args=[service_point.pk]),
        reverse("admin:login"),
        reverse("api:docs"),
    ]
    for url in anonymous:
        yield url, client.get(url)
    client.force_login(alice)
    for url in (
        reverse("jobs:my_orders"),
        reverse("wallet:mine"),
        reverse("notifications:inbox"),
        reverse("matching:for_you"),
    ):
        yield url, client.get(url)
    client.force_login(hall_staff)
    for url in (reverse("admin:index"), reverse("hall:dashboard")):
        yield url, client.get(url)


def test_every_area_serves_the_policy(client, alice, hall_staff, service_point):
    seen = 0
    for url, response in html_pages(client, alice, hall_staff, service_point):
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url
        policy = directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"][0] == "'self'" and policy["script-src"][1].startswith("'nonce-"), url
        assert len(policy["script-src"]) == 2, url  # nothing else: no 'unsafe-inline', no 'unsafe-eval'
        assert "'unsafe-inline'" not in policy["style-src"], url
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        # report-uri only: Chromium drops report-uri once report-to is named (see settings).
        assert policy["report-uri"] == [reverse("csp-report")]
        assert "report-to" not in policy
        seen += 1
    assert seen == 14


def test_the_header_lists_directives_in_settings_order(client):
    header = client.get(reverse("jobs:board"))["Content-Security-Policy"]
    assert list(directives(header)) == list(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    assert header.startswith("default-src 'self'; script-src 'self' 'nonce-")


def test_each_request_gets_its_own_nonce(client):
    nonces = {nonce_of(client.get(reverse("jobs:board"))["Content-Security-Policy"]) for _ in range(5)}
    assert len(nonces) == 5
    assert all(len(nonce) >= 22 for nonce in nonces)  # 16 random bytes, base64


def test_the_api_docs_start_from_a_file(client):
    """drf-spectacular's Swagger page starts Swagger UI with an inline script; ours fetches it instead."""
    html = client.get(reverse("api:docs")).content.decode()
    assert not INLINE_SCRIPT.search(html) and not STYLE_ELEMENT.search(html)
    (start_url,) = re.findall(r'<script src="([^"]*script=[^"]*)"', html)
    start = client.get(start_url.replace("&amp;", "&"))
    assert start.status_code == 200
    assert start["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in start.content


def test_a_browser_asking_the_api_for_html_gets_json(client, alice):
    """DRF's browsable API is off (its pages carry inline styles the policy refuses): a browser opening
    an API URL reads JSON, and people use the docs page."""
    client.force_login(alice)
    response = client.get(reverse("api:me"), headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")


def test_pdfs_carry_no_policy():
    """Chromium's PDF viewer runs in the PDF's own document; a page policy there has broken it before."""
    middleware = ContentSecurityPolicyMiddleware(
        lambda request: HttpResponse(b"%PDF-1.7", content_type="application/pdf")
    )
    request = RequestFactory().get("/jobs/orders/1/contract.pdf")
    assert "Content-Security-Policy" not in middleware(request)


def test_json_responses_are_covered_too(client):
    response = client.get(reverse("healthz"))
    assert "object-src 'none'" in response["Content-Security-Policy"]


def test_permissions_policy_and_referrer_policy_on_every_response(client, alice):
    for url in (reverse("home"), reverse("jobs:board"), reverse("healthz"), reverse("admin:login")):
        response = client.get(url)
        features = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
        assert features["camera"] == "()"
        assert features["microphone"] == "()"
        assert features["payment"] == "()"
        assert features["usb"] == "()"
        # The board's nearest-first, a post's place and check-in ask for the phone's position: ours only.
        assert features["geolocation"] == "(self)"
        assert response["Referrer-Policy"] == "same-origin"


def test_permissions_policy_lists_only_features_chromium_knows():
    """Chromium warns in the console about an unknown feature (the browser tests fail on that too);
    this keeps the list to names it reads, 'bluetooth' having been one it did not."""
    assert "bluetooth" not in settings.PERMISSIONS_POLICY
    assert set(settings.PERMISSIONS_POLICY) <= {
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen",
        "geolocation", "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment",
        "publickey-credentials-get", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    }  # fmt: skip


# --------------------------------------------------------------------------------------------- templates

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    path for path in Path(settings.BASE_DIR).glob("*/templates") if ".venv" not in path.parts
]
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\s(on[a-z]+)\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b(?![^>]*\bnonce=)[^>]*>", re.I)
DJANGO_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def templates():
    for directory in TEMPLATE_DIRS:
        yield from sorted(directory.rglob("*.html"))


def test_templates_need_nothing_inline():
    """What the policy refuses never reaches a template: an inline <script> (JSON goes in json_script,
    which renders at run time), an on*= handler, a javascript: URL, a style="" or a <style> without
    the nonce."""
    checked, problems = 0, []
    for path in templates():
        text = DJANGO_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text(encoding="utf-8"))
        for name, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("on*= handler", HANDLER_ATTRIBUTE),
            ("javascript: URL", JAVASCRIPT_URL),
            ('style="" attribute', STYLE_ATTRIBUTE),
            ("<style> without nonce", STYLE_ELEMENT),
        ):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(
                    f"{path.relative_to(settings.BASE_DIR)}:{line}: {name}: {match.group(0)[:60]}"
                )
        checked += 1
    assert checked > 90
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script type="text/javascript">x()</script>',
        '<button onclick="go()">',
        '<a href="javascript:void(0)">',
        '<td style="text-align:right">',
        "<style>body{}</style>",
    ],
)
def test_the_template_check_catches(snippet):
    assert any(
        pattern.search(snippet)
        for pattern in (INLINE_SCRIPT, HANDLER_ATTRIBUTE, JAVASCRIPT_URL, STYLE_ATTRIBUTE, STYLE_ELEMENT)
    )


@pytest.mark.parametrize(
    "snippet",
    [
        "<script src=\"{% static 'jobs/board.js' %}\"></script>",
        '<style nonce="{{ request.csp_nonce }}">',
        '<p class="style-note">onward</p>',
        '<input name="online" data-onclick="x">',
    ],
)
def test_the_template_check_passes(snippet):
    assert not any(
        pattern.search(snippet)
        for pattern in (INLINE_SCRIPT, HANDLER_ATTRIBUTE, JAVASCRIPT_URL, STYLE_ATTRIBUTE, STYLE_ELEMENT)
    )
