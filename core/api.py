"""One error shape for the whole API::

{"code": "invalid", "detail": "一句话说明", "fields": {"phone": ["手机号格式不正确"]}}
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def _fields_from_django(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (name if name != "__all__" else "non_field_errors"): [m for e in errs for m in e.messages]
            for name, errs in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response({"code": exc.code, "detail": exc.message, "fields": fields}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = _fields_from_django(exc)
        first = next(iter(fields.values()))[0]
        return Response({"code": "invalid", "detail": first, "fields": fields}, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("未找到")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied("没有权限")

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in data.items()}
        first = next(iter(fields.values()), ["输入有误"])[0]
        response.data = {"code": "invalid", "detail": first, "fields": fields}
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", "error")
        response.data = {"code": code, "detail": str(detail), "fields": {}}
    return response


class ViewOrderedCursorPagination(CursorPagination):
    """Keyset pagination ordered by the view's own ``ordering`` (a unique or nearly unique column)."""

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "ordering", None)
        if ordering:
            return (ordering,) if isinstance(ordering, str) else tuple(ordering)
        return super().get_ordering(request, queryset, view)
