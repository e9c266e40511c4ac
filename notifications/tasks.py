"""Celery tasks: thin wrappers that take ids."""

from celery import shared_task

from .services import message_deliver


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def deliver_message(message_id: int) -> None:
    message_deliver(message_id=message_id)
