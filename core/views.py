"""Operational endpoints: health, and the browser's Content-Security-Policy reports."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core import ratelimit
from core.csp import BadReport, log_violations, parse_reports
from core.services import client_ip

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """Readiness: the database and the cache answer (503 naming the one that does not).

    ``?only=database`` lets the database alone decide the status (the cache is still reported): that is
    the check for a load balancer or a container, because pages and the API work without Redis
    (docs/bad-days.md) and pulling every web server out while Redis is down would make it a dependency."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "error"
    # The cache degrades to misses when Redis is down (core.cache), so ask it whether it really answers.
    try:
        if hasattr(cache, "available"):
            checks["cache"] = "ok" if cache.available() else "error"
        else:
            cache.set("healthz", "1", 5)
            checks["cache"] = "ok" if cache.get("healthz") == "1" else "error"
    except Exception:
        checks["cache"] = "error"
    deciding = [request.GET["only"]] if request.GET.get("only") in checks else list(checks)
    ok = all(checks[name] == "ok" for name in deciding)
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)


@csrf_exempt
@require_POST
def csp_report(request):
    """Where browsers send Content-Security-Policy violations (the policy's report-uri).

    Always 204 to a browser: a report is best effort and the browser does nothing with an error. Reports
    are logged (core/csp.py says what is kept), at most ``CSP_REPORT_RATE_PER_MINUTE`` requests per
    client address; an unreachable cache lets the report through rather than fail. A body that is not a
    report gets a 400 (something other than a browser sent it); a larger one than
    ``CSP_REPORT_MAX_BYTES`` is not read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.CSP_REPORT_MAX_BYTES:
        return HttpResponse(status=204)
    if not _csp_report_allowed(client_ip(request) or "unknown"):
        return HttpResponse(status=204)
    raw = request.read(settings.CSP_REPORT_MAX_BYTES + 1)
    if len(raw) > settings.CSP_REPORT_MAX_BYTES:
        return HttpResponse(status=204)
    try:
        violations = parse_reports(raw)
    except BadReport:
        return HttpResponse(status=400)
    log_violations(violations)
    return HttpResponse(status=204)


def _csp_report_allowed(address: str) -> bool:
    try:
        return ratelimit.hit(
            scope="csp-report", key=address, limit=settings.CSP_REPORT_RATE_PER_MINUTE, window_seconds=60
        )
    except Exception:  # the cache (Redis) is down: a report is worth more than the limit
        logger.warning("CSP report rate limit skipped: the cache is unreachable")
        return True
