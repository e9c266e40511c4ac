"""``Idempotency-Key`` for the API endpoints that move money.

The first request with a key runs and its successful answer is stored; the same caller sending the same
key with the same request gets that answer again (header ``Idempotent-Replayed: true``) and nothing runs;
the same key with another request is refused (409 ``idempotency_mismatch``). A refused request stores
nothing — it moved nothing, so sending it again is safe. While the first is still running a repeat gets
409 ``request_in_progress``; a first that died (no answer after a minute) is run again, which the
services' own keys (derived from this one) make harmless.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from core.errors import Conflict, DomainError

from .models import IdempotencyKey

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")
ABANDONED_AFTER = timedelta(minutes=1)

HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "8–100个字母、数字或 _ . : -。同一个键再次提交同样的请求，返回第一次的结果且不重复扣款；"
        "同一个键提交不同的请求返回 409 idempotency_mismatch。"
    ),
)


def _digest(request) -> str:
    body = json.dumps(
        {"method": request.method, "path": request.path, "body": request.data},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def idempotent(method):
    """Wrap an APIView handler; it finds the service key to use in ``request.idempotency_key``."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            request.idempotency_key = f"api:{uuid.uuid4().hex}"
            return method(self, request, *args, **kwargs)
        if not KEY_PATTERN.match(key):
            raise DomainError(
                "Idempotency-Key 应为8–100个字母、数字或 _ . : -", field="idempotency_key", code="invalid"
            )
        digest = _digest(request)
        record, created = IdempotencyKey.objects.get_or_create(
            user=request.user, key=key, defaults={"request_hash": digest}
        )
        if not created:
            if record.request_hash != digest:
                raise Conflict(
                    "这个 Idempotency-Key 已用于另一个不同的请求",
                    field="idempotency_key",
                    code="idempotency_mismatch",
                )
            if record.status_code is not None:
                response = Response(record.body, status=record.status_code)
                response["Idempotent-Replayed"] = "true"
                return response
            if record.created_at > timezone.now() - ABANDONED_AFTER:
                raise Conflict("同样的请求正在处理中，请稍后再查看结果", code="request_in_progress")
        request.idempotency_key = f"api:{request.user.pk}:{key}"
        try:
            response = method(self, request, *args, **kwargs)
        except Exception:
            IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True).delete()
            raise
        if 200 <= response.status_code < 300:
            IdempotencyKey.objects.filter(pk=record.pk).update(
                status_code=response.status_code, body=response.data
            )
        else:
            IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True).delete()
        return response

    return wrapper
