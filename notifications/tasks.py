"""Celery tasks: thin wrappers that take ids. Delivery is idempotent (see delivery.py), so a task run twice
(acks_late after a worker died) sends nothing twice."""

from celery import shared_task

from . import delivery


@shared_task(acks_late=True)
def deliver_message(message_id: int) -> dict:
    return delivery.deliver(first_id=message_id)


@shared_task(acks_late=True)
def deliver_due() -> dict:
    return delivery.deliver()


@shared_task(acks_late=True)
def sweep() -> dict:
    return delivery.sweep()
