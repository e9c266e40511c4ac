"""Queueing and delivering messages. Queueing writes the outbox row inside the caller's transaction and
schedules delivery after commit, so a rolled-back event sends nothing."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .backends import get_backend
from .models import Message
from .templates_registry import TEMPLATES, render


def message_queue(
    *,
    event_key: str,
    template: str,
    params: dict,
    phone: str = "",
    recipient=None,
    channel: str = Message.Channel.SMS,
) -> Message:
    """Write one message for (event, channel, phone); a repeat of the same event returns the first row."""
    if template not in TEMPLATES:
        raise KeyError(f"unknown message template {template!r}")
    phone = phone or (recipient.phone if recipient is not None else "")
    try:
        with transaction.atomic():
            message = Message.objects.create(
                event_key=event_key,
                channel=channel,
                recipient=recipient,
                phone=phone,
                template=template,
                params=params,
                body=render(template, params),
            )
    except IntegrityError:
        return Message.objects.get(event_key=event_key, channel=channel, phone=phone)
    if channel == Message.Channel.SMS:
        from .tasks import deliver_message

        transaction.on_commit(lambda: deliver_message.delay(message.pk))
    return message


def message_deliver(*, message_id: int) -> Message | None:
    """Send one pending message through the configured backend; already-sent messages are left alone."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != Message.Status.PENDING:
            return message
        backend = get_backend()
        message.attempts += 1
        message.provider_id = backend.send(message)
        message.backend = backend.name
        message.status = Message.Status.SENT
        message.sent_at = timezone.now()
        message.save(update_fields=["attempts", "provider_id", "backend", "status", "sent_at"])
    return message
