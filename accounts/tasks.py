"""Scheduled jobs of accounts (Celery beat): thin wrappers around the services."""

from celery import shared_task

from . import services


@shared_task
def purge_id_photos() -> int:
    """Daily: ID card photos go 30 days after their real-name was decided."""
    return services.realname_photos_purge()
