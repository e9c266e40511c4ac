"""The endpoint browsers send Content-Security-Policy violations to: it logs what broke where (and nothing
personal), in both report formats, rate-limited per address, and never fails."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = "/csp-report/"

# What Firefox sends (report-uri).
REPORT_URI_BODY = {
    "csp-report": {
        "document-uri": "https://gig.example.cn/jobs/?q=13812345678&sort=nearest#top",
        "referrer": "https://gig.example.cn/login/?phone=13812345678",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'; script-src 'self' 'nonce-abc'",
        "disposition": "enforce",
        "blocked-uri": "https://evil.example.com/x.js?token=secret-token",
        "status-code": 200,
        "script-sample": "steal('110105197506150013')",
        "source-file": "https://gig.example.cn/static/jobs/board.js?v=2",
        "line-number": 12,
    }
}
# What Chromium sends (report-to, Reporting-Endpoints): a batch.
REPORT_TO_BODY = [
    {
        "age": 10,
        "type": "csp-violation",
        "url": "https://gig.example.cn/wallet/?card=6222020200112233445",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://gig.example.cn/wallet/?card=6222020200112233445",
            "referrer": "",
            "blockedURL": "inline",
            "effectiveDirective": "style-src-attr",
            "originalPolicy": "default-src 'self'",
            "sample": "color:red",
            "disposition": "enforce",
            "statusCode": 200,
            "sourceFile": "https://gig.example.cn/static/hall/dashboard.js",
            "lineNumber": 40,
            "columnNumber": 7,
        },
    },
    {
        "age": 3,
        "type": "deprecation",
        "url": "https://gig.example.cn/",
        "body": {"id": "x", "message": "old"},
    },
]


def post(client, body, content_type="application/csp-report", **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, **extra)


def csp_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "core.csp"]


def test_the_policy_points_at_this_endpoint():
    assert reverse("csp-report") == URL


def test_a_report_uri_report_is_logged_without_query_or_sample(client, caplog):
    caplog.set_level(logging.WARNING, logger="core.csp")
    response = post(client, REPORT_URI_BODY)
    assert response.status_code == 204
    (line,) = csp_lines(caplog)
    assert "script-src-elem" in line
    assert "https://evil.example.com/x.js" in line
    assert "on /jobs/" in line
    assert "https://gig.example.cn/static/jobs/board.js:12" in line
    for secret in (
        "13812345678",
        "secret-token",
        "token=",
        "110105197506150013",
        "steal",
        "sort=",
        "#top",
        "login",
    ):
        assert secret not in line, secret


def test_a_report_to_batch_is_logged_violation_by_violation(client, caplog):
    caplog.set_level(logging.WARNING, logger="core.csp")
    response = post(client, REPORT_TO_BODY, content_type="application/reports+json")
    assert response.status_code == 204
    (line,) = csp_lines(caplog)  # the deprecation report is not a CSP violation
    assert "style-src-attr blocked inline on /wallet/" in line
    assert "6222020200112233445" not in line and "color:red" not in line


def test_csrf_is_not_asked_of_a_browser(caplog):
    from django.test import Client

    caplog.set_level(logging.WARNING, logger="core.csp")
    response = post(Client(enforce_csrf_checks=True), REPORT_URI_BODY)
    assert response.status_code == 204
    assert len(csp_lines(caplog)) == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe\x00", b"", b"42", b'"text"', b'{"csp-report": "no"}', b"null"],
)
def test_garbage_is_refused_plainly(client, caplog, body):
    caplog.set_level(logging.WARNING, logger="core.csp")
    response = post(client, body)
    assert response.status_code == 400
    assert csp_lines(caplog) == []


def test_odd_values_inside_a_report_do_not_break_it(client, caplog):
    caplog.set_level(logging.WARNING, logger="core.csp")
    body = {
        "csp-report": {
            "document-uri": 5,
            "blocked-uri": ["x"],
            "line-number": "12",
            "effective-directive": None,
        }
    }
    assert post(client, body).status_code == 204
    odd = [{"type": "csp-violation", "body": {"blockedURL": "http://[bad", "documentURL": {"a": 1}}}]
    assert post(client, odd, content_type="application/reports+json").status_code == 204
    assert len(csp_lines(caplog)) == 2


def test_an_oversized_report_is_not_read(client, caplog, settings):
    caplog.set_level(logging.WARNING, logger="core.csp")
    settings.CSP_REPORT_MAX_BYTES = 1024
    body = {"csp-report": {**REPORT_URI_BODY["csp-report"], "script-sample": "x" * 2000}}
    assert post(client, body).status_code == 204
    assert csp_lines(caplog) == []


def test_a_long_batch_is_cut_and_long_values_clipped(client, caplog):
    caplog.set_level(logging.WARNING, logger="core.csp")
    item = {
        "type": "csp-violation",
        "body": {"effectiveDirective": "img-src", "blockedURL": "https://a.cn/" + "p" * 300},
    }
    assert post(client, [item] * 30, content_type="application/reports+json").status_code == 204
    lines = csp_lines(caplog)
    assert len(lines) == 20
    assert all(len(line) < 400 for line in lines)


def test_reports_are_rate_limited_per_address(client, caplog, settings):
    caplog.set_level(logging.WARNING, logger="core.csp")
    settings.CSP_REPORT_RATE_PER_MINUTE = 3
    for _ in range(5):
        assert post(client, REPORT_URI_BODY, REMOTE_ADDR="10.0.0.1").status_code == 204
    assert len(csp_lines(caplog)) == 3
    assert post(client, REPORT_URI_BODY, REMOTE_ADDR="10.0.0.2").status_code == 204
    assert len(csp_lines(caplog)) == 4  # another address still gets through


def test_a_cache_outage_lets_reports_through(client, caplog, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", down)
    monkeypatch.setattr(cache, "incr", down)
    caplog.set_level(logging.WARNING, logger="core.csp")
    assert post(client, REPORT_URI_BODY).status_code == 204
    assert len(csp_lines(caplog)) == 1


def test_only_post(client):
    assert client.get(URL).status_code == 405
