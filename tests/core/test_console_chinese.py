"""The staff console speaks Chinese: a superuser walks every list and every edit form of the admin over
the demo city, and no page may show a column or field label in English, a raw ISO timestamp or a raw
status code (``pending → approved``) where a clerk expects 已通过."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from tests import factories

pytestmark = pytest.mark.django_db

# Technical words a clerk reads as they are (and the Chinese pages use them too).
ALLOWED = {
    "JF",  # case numbers (JF-000001)
    "LP",  # insurance claim numbers (LP20261207000001)
    "IP",
    "ID",
    "SMS",
    "URL",
    "CSV",
    "Excel",
    "OutId",
    "SHA",
    "PDF",
    "AI",
    "API",
    "OpenAPI",
    "USCC",
}
ENGLISH = re.compile(r"[A-Za-z][A-Za-z]+")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?([+-]\d{2}:\d{2}|Z)?)?\b")
RAW_TRANSITION = re.compile(r"\b[a-z_]+ → [a-z_]+\b|— → [a-z_]+\b")
TAGS = re.compile(r"<[^>]+>")
RAW_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
DIGEST = re.compile(r"[0-9a-f]{32,}")  # a contract's SHA-256 is shown as it is, to compare
# Values that are what they say to a clerk (none so far).
ALLOWED_VALUES: set[str] = set()


def _texts(page: str, tag: str) -> list[str]:
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", page, flags=re.S)
    return [html.unescape(TAGS.sub(" ", t)).strip() for t in found]


def _visible(page: str) -> str:
    body = re.sub(r"<(script|style|select)\b.*?</\1>", " ", page, flags=re.S)
    body = re.sub(r'<input\b[^>]*type="hidden"[^>]*>', " ", body)
    return html.unescape(TAGS.sub(" ", body))


def english_words(text: str) -> set[str]:
    return {w for w in ENGLISH.findall(text) if w not in ALLOWED}


def problems(page: str) -> list[str]:
    """What a clerk should not see on ``page``: English column headers and field labels, raw ISO
    timestamps and raw status codes."""
    found = []
    for tag in ("th", "label", "caption", "h1", "h2"):
        for text in _texts(page, tag):
            words = english_words(text)
            if words:
                found.append(f"<{tag}> {text[:60]!r}: {sorted(words)}")
    visible = _visible(page)
    found += [
        f"raw timestamp {m.group(0)!r} in …{' '.join(visible[max(0, m.start() - 60) : m.start()].split())}"
        for m in ISO.finditer(visible)
    ]
    # A cell or read-only value that is nothing but a code (``outbox``, ``inapp``, ``case_assigned``).
    for tag in ("td", "div"):
        for text in _texts(page, tag):
            if RAW_CODE.fullmatch(text) and not DIGEST.fullmatch(text) and text not in ALLOWED_VALUES:
                found.append(f"raw code <{tag}> {text!r}")
    found += [f"raw status {m.group(0)!r}" for m in RAW_TRANSITION.finditer(visible)]
    return found


@pytest.fixture
def demo_city(db):
    call_command("seed_demo", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_checker_sees_what_the_issue_saw():
    page = (
        "<table><thead><tr><th>Employer</th><th>创建时间</th></tr></thead><tbody><tr>"
        "<td>2026-12-07 08:45:08.471910+00:00</td><td>pending → approved</td></tr></tbody></table>"
    )
    found = problems(page)
    assert problems("<td>2031-12-31</td>")  # a bare ISO date too
    assert any("Employer" in p for p in found)
    assert any("raw timestamp" in p for p in found)
    assert any("raw status" in p for p in found)
    assert problems("<th>用工主体</th><td>2026年12月7日 16:45</td><td>待审核 → 已通过</td>") == []


def test_every_console_list_and_form_is_in_chinese(client, demo_city):
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    report = {}
    pages = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        try:
            changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        response = client.get(changelist)
        assert response.status_code == 200, changelist
        pages += 1
        found = problems(response.content.decode())
        obj = model_admin.get_queryset(response.wsgi_request).order_by("-pk").first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            response = client.get(change)
            assert response.status_code == 200, change
            pages += 1
            found += [f"(form) {p}" for p in problems(response.content.decode())]
        if found:
            report[changelist] = found
    assert pages > 60
    by_problem: dict[str, list[str]] = {}
    for url, found in report.items():
        for problem in set(found):
            by_problem.setdefault(problem, []).append(url)
    assert not by_problem, "\n".join(
        f"{p}\n    on {', '.join(sorted(u)[:4])}" for p, u in sorted(by_problem.items())
    )
