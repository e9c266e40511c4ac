"""A database that cannot be reached (PostgreSQL restarting, a fail-over, connections cut) answers a clean
503 — a Chinese page, or the API's error shape — never a 500 (docs/bad-days.md).

``DatabaseUnavailableMiddleware`` catches it from views (and the templates they render); ``server_error``
(the project's ``handler500``) catches it from middleware (sessions, authentication). Either way the
broken connection is dropped at once, so the next request opens a fresh one even where Django's
per-request clean-up does not run. The transaction it interrupted was never committed: PostgreSQL rolls
it back whole, so nothing is half-written.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 15
API_PREFIX = "/api/"


def unavailable_response(request) -> HttpResponse:
    """The 503 itself: rendered without the request's context, which would ask the database again."""
    _drop_broken_connections()
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(
            {"code": "service_unavailable", "detail": "系统繁忙，请稍后再试", "fields": {}}, status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _drop_broken_connections() -> None:
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            try:
                conn.close_if_unusable_or_obsolete()
            except Exception:  # closing a dead socket may complain; the connection is gone either way
                conn.connection = None


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN):
            # The class only: a driver's message can quote the statement and its values.
            logger.warning("database unavailable (%s) on %s", type(exception).__name__, request.path)
            return unavailable_response(request)
        return None


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    """``handler500``: a database outage met outside a view is a 503 too."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return unavailable_response(request)
    return defaults.server_error(request, template_name)
