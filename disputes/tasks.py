"""Scheduled jobs of the disputes area (Celery beat): thin wrappers around the services."""

from celery import shared_task

from . import services


@shared_task
def check_deadlines() -> dict:
    return services.cases_check_deadlines()
