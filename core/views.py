"""Operational endpoints."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


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
