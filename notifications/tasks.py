"""Celery tasks: thin wrappers that take ids. Delivery is idempotent (see delivery.py), so a task run twice
(acks_late after a worker died) sends nothing twice."""

from celery import shared_task

from . import delivery, webpush


@shared_task(acks_late=True)
def deliver_message(message_id: int) -> dict:
    return delivery.deliver(first_id=message_id)


@shared_task(acks_late=True)
def deliver_messages(message_ids: list[int]) -> dict:
    """A fan-out's rows, one task per chunk (``services.message_queue_bulk``); codes are left to their own
    queue."""
    return delivery.deliver_listed(message_ids)


@shared_task(acks_late=True)
def deliver_code(message_id: int) -> dict:
    """A one-time code, routed to the ``codes`` queue (``CELERY_TASK_ROUTES``): it and the other codes due,
    never a fan-out's rows."""
    return delivery.deliver(first_id=message_id, codes=True)


@shared_task(acks_late=True)
def deliver_due() -> dict:
    return delivery.deliver()


@shared_task(acks_late=True)
def sweep() -> dict:
    return {**delivery.sweep(), **webpush.sweep()}


@shared_task(acks_late=True)
def deliver_push(message_id: int) -> dict:
    """One Web Push row (叮咚) to each of its recipient's devices (``webpush.deliver``; idempotent)."""
    return webpush.deliver(message_id=message_id)
