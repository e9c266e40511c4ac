"""Scheduled outreach jobs (Celery beat): thin wrappers around the services."""

from celery import shared_task

from . import services
from .imports import import_files_purge


@shared_task
def create_followups() -> int:
    """Hourly: a follow-up task for every recently completed order that has none (idempotent)."""
    return services.followups_create_due()


@shared_task
def purge_import_files() -> int:
    """Hourly: empty previewed import files nobody confirmed (they hold ID numbers)."""
    return import_files_purge()
