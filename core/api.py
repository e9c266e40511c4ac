"""One error shape for the whole API::

{"code": "invalid", "detail": "一句话说明", "fields": {"phone": ["手机号格式不正确"]}}

A validator's own codes come along where it gives them, so a client can tell failures apart without
parsing the message: ``"field_codes": {"id_number": ["invalid_checksum"]}``.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
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


def _codes_from_django(exc: DjangoValidationError) -> dict[str, list[str]]:
    errors = exc.error_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.error_list}
    return {
        (name if name != "__all__" else "non_field_errors"): [e.code or "invalid" for e in errs]
        for name, errs in errors.items()
    }


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        fields = {exc.field: [exc.message]} if exc.field else {}
        retry_after = getattr(exc, "retry_after", None)
        return Response(
            {"code": exc.code, "detail": exc.message, "fields": fields},
            status=exc.status_code,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
        )
    if isinstance(exc, DjangoValidationError):
        fields = _fields_from_django(exc)
        first = next(iter(fields.values()))[0]
        body = {"code": "invalid", "detail": first, "fields": fields, "field_codes": _codes_from_django(exc)}
        return Response(body, status=400)
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


def validated(serializer_class, request, *, data=None, partial: bool = False) -> dict:
    """Validate the request body (or ``data``) with a serializer; a 400 in the common shape otherwise."""
    serializer = serializer_class(data=request.data if data is None else data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def found(getter, **kwargs):
    """Run a selector that raises DoesNotExist for objects the caller may not see, and make that a 404."""
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist as exc:
        raise exceptions.NotFound("未找到") from exc
