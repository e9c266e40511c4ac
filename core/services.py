"""Writes to the audit log."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from .models import GENESIS_HASH, AuditLog

# pg_advisory_xact_lock key serialising appends to the chain (any constant unique to this purpose).
AUDIT_CHAIN_LOCK = 0x4155444954  # "AUDIT"
_APPEND_ATTEMPTS = 5


def _lock_chain() -> None:
    """Serialise appends until this transaction ends, so each reads the true last hash. SQLite serialises
    writers itself; the unique ``prev_hash`` catches any writer that skipped the lock (it retries)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])


@transaction.atomic
def audit_record(
    *,
    actor,
    action: str,
    target: models.Model,
    reason: str = "",
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    """Append one row to the hash chain. ``action`` must be a declared :class:`AuditLog.Action`."""
    if action not in AuditLog.Action.values:
        raise ValueError(f"audit action {action!r} is not one of AuditLog.Action")
    _lock_chain()
    for attempt in range(_APPEND_ATTEMPTS):
        last = AuditLog.objects.order_by("-pk").values_list("row_hash", flat=True).first()
        entry = AuditLog(
            actor=actor if getattr(actor, "pk", None) else None,
            action=action,
            target_type=target._meta.label_lower,
            target_id=str(target.pk),
            reason=reason,
            data=json.loads(json.dumps(data or {})),  # as it will read back
            ip_address=str(ipaddress.ip_address(ip_address)) if ip_address else None,
            created_at=timezone.now(),
            prev_hash=last if last is not None else GENESIS_HASH,
        )
        entry.row_hash = entry.compute_hash()
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
        except IntegrityError:
            if attempt == _APPEND_ATTEMPTS - 1:
                raise
            continue  # another writer appended first: chain onto its row
        return entry
    raise AssertionError("unreachable")


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None
