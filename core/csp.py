"""Content-Security-Policy violation reports: what a browser refused on one of our pages.

Browsers send two formats: ``application/csp-report`` (``report-uri``, what our policy names) holds one
``{"csp-report": {...}}``; ``application/reports+json`` (``report-to``, the Reporting API, should the
policy move to it) holds a list of reports whose ``body`` uses camelCase names. Both are reduced to the same few fields and logged: the directive,
what was blocked and the page, each as origin and path only. Query strings, script samples and
referrers are dropped: they can carry a phone number, a search term or a token."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

logger = logging.getLogger("core.csp")

# Most reports one request may carry (Chromium batches a page's reports).
MAX_REPORTS = 20
# Longest logged value: a crafted report must not flood the log.
MAX_FIELD = 200
# Values browsers put in blocked-uri instead of a URL.
_KEYWORDS = {
    "inline",
    "eval",
    "wasm-eval",
    "self",
    "data",
    "blob",
    "trusted-types-policy",
    "trusted-types-sink",
}


class BadReport(ValueError):
    """The body is not a CSP report in either format."""


@dataclass(frozen=True)
class Violation:
    directive: str
    blocked: str
    document: str
    source: str
    line: int | None
    disposition: str

    def log_line(self) -> str:
        where = f" at {self.source}:{self.line}" if self.source and self.line else ""
        return (
            f"CSP violation ({self.disposition}): {self.directive} blocked {self.blocked or '-'}"
            f" on {self.document or '-'}{where}"
        )


def origin_and_path(value: object) -> str:
    """A URL as scheme://host/path (no user info, query or fragment); a keyword ('inline', 'eval') as is."""
    if not isinstance(value, str) or not value:
        return ""
    value = value.strip()
    if value.lower() in _KEYWORDS:
        return value.lower()
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unreadable)"
    if parts.scheme in ("data", "blob", "about", "chrome-extension", "moz-extension", "safari-extension"):
        return f"{parts.scheme}:"
    origin = f"{parts.scheme}://{host}{port}" if parts.scheme and host else ""
    return _clip(origin + parts.path)


def path_only(value: object) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        return _clip(urlsplit(value.strip()).path)
    except ValueError:
        return "(unreadable)"


def _clip(text: str) -> str:
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:MAX_FIELD]


def _text(value: object) -> str:
    return _clip(value) if isinstance(value, str) else ""


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _from_report_uri(report: dict) -> Violation:
    directive = report.get("effective-directive") or report.get("violated-directive") or ""
    return Violation(
        directive=_text(directive).split(" ")[0],
        blocked=origin_and_path(report.get("blocked-uri")),
        document=path_only(report.get("document-uri")),
        source=origin_and_path(report.get("source-file")),
        line=_line(report.get("line-number")),
        disposition=_text(report.get("disposition")) or "enforce",
    )


def _from_report_to(body: dict) -> Violation:
    return Violation(
        directive=_text(body.get("effectiveDirective")),
        blocked=origin_and_path(body.get("blockedURL")),
        document=path_only(body.get("documentURL")),
        source=origin_and_path(body.get("sourceFile")),
        line=_line(body.get("lineNumber")),
        disposition=_text(body.get("disposition")) or "enforce",
    )


def parse_reports(raw: bytes) -> list[Violation]:
    """The violations in one request body; :class:`BadReport` if it is neither format."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadReport("not JSON") from exc
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        return [_from_report_uri(data["csp-report"])]
    if isinstance(data, list):  # other report types (deprecation, intervention) may share the endpoint
        return [
            _from_report_to(item["body"])
            for item in data[:MAX_REPORTS]
            if isinstance(item, dict)
            and item.get("type") == "csp-violation"
            and isinstance(item.get("body"), dict)
        ]
    raise BadReport("not a CSP report")


def log_violations(violations: list[Violation]) -> None:
    for violation in violations:
        logger.warning(violation.log_line())
