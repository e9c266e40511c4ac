"""Operational endpoints."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """Liveness + readiness for the load balancer and docker-compose: the database and the cache answer."""
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
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)
