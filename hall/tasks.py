"""Hall tasks: thin wrappers around hall.services, run by Celery beat."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def snapshot_supply_demand() -> int:
    """Rewrite today's supply/demand snapshot (idempotent) and end idle kiosk sessions."""
    services.kiosk_sessions_expire()
    return services.snapshot_take()
