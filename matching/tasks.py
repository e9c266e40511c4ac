"""Celery tasks: thin wrappers around the services, taking ids."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services
from .batch import recompute_city as run


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def push_post(post_id: int, wave: int = 1) -> int:
    return services.push_post(post_id=post_id, wave=wave)


@shared_task
def push_due() -> int:
    return services.posts_push_due()


@shared_task
def send_digest() -> int:
    return services.digest_send()


@shared_task
def recompute_city() -> dict:
    return run(progress=False)
