"""Writes to the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditLog


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model,
    reason: str = "",
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        reason=reason,
        data=data or {},
        ip_address=ip_address,
    )


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None
