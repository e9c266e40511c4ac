"""Writes: queueing messages (the outbox), reading them, preferences.

Queueing writes the outbox row inside the caller's transaction and schedules delivery after commit, so a
rolled-back event sends nothing. Marketing-type messages (recommendations) are written only with the
user's consent and switch on, under a per-number daily cap, and wait for the end of quiet hours.
Transactional messages (codes, order events) are never suppressed. A template's secret variables (one-time
codes) are kept out of the row's ``params`` and ``body`` and stored encrypted for the gateway alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.dispatch import dispatch
from core.errors import DomainError

from .delivery import deliver
from .models import Message, Preference, PreferenceEvent
from .quiet_hours import quiet_hours_end
from .selectors import inbox
from .templates_registry import TEMPLATES, render_redacted, split_secret

logger = logging.getLogger("gigmarket.sms")


def _send_day(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def _marketing_refused(*, template, recipient, phone: str, channel: str, send_at: dt.datetime) -> str:
    """Why a marketing message must not be written ('' when it may). The daily cap counts the messages
    that reach the phone on the day this one would: sent that day, or waiting to go out that day (held
    overnight by quiet hours), whenever they were written."""
    if recipient is None:
        return "no user, so no consent"
    # Locked: two pushes at once for the same person must not both slip under the daily cap.
    pref = Preference.objects.select_for_update().filter(user=recipient).first()
    if pref is None or not pref.marketing_consent:
        return "no marketing consent"
    if not pref.allows(channel=channel, category=template.category or "recommendation"):
        return f"user switched off {template.kind} by {channel}"
    if channel == Message.Channel.SMS:
        day_start, day_end = _send_day(send_at)
        # When each one goes out: its send time once sent, else when it may be sent (or was written).
        goes_out = Coalesce("sent_at", "send_after", "created_at")
        that_day = (
            Message.objects.filter(phone=phone, channel=Message.Channel.SMS, marketing=True)
            .exclude(status=Message.Status.FAILED, sent_at__isnull=True)
            .alias(goes_out=goes_out)
            .filter(goes_out__gte=day_start, goes_out__lt=day_end)
            .count()
        )
        if that_day >= settings.NOTIFY_MARKETING_DAILY_CAP:
            return "daily marketing cap for this number reached"
    return ""


def message_queue(
    *,
    event_key: str,
    template: str,
    params: dict,
    phone: str = "",
    recipient=None,
    channel: str = Message.Channel.SMS,
    expires_at: dt.datetime | None = None,
) -> Message | None:
    """Write one message for (event, channel, phone); a repeat of the same event returns the first row.

    A template's secret variables (the code of ``phone_code``) are stored encrypted, redacted in ``params``
    and ``body``; ``expires_at`` (default ``NOTIFY_SECRET_TTL`` from now) is when they stop being worth
    sending: after it the secret is wiped and an unsent message is given up.

    Returns None, writing nothing, when a marketing message is not allowed (see the module docstring)."""
    if template not in TEMPLATES:
        raise KeyError(f"unknown message template {template!r}")
    spec = TEMPLATES[template]
    phone = phone or (recipient.phone if recipient is not None else "")
    now = timezone.now()
    public, secret = split_secret(template, params)
    send_after = None
    with transaction.atomic():
        existing = Message.objects.filter(event_key=event_key, channel=channel, phone=phone).first()
        if existing is not None:
            return existing
        if spec.marketing:
            send_after = quiet_hours_end(at=now)
            refused = _marketing_refused(
                template=spec, recipient=recipient, phone=phone, channel=channel, send_at=send_after or now
            )
            if refused:
                logger.info("message %s for event %s not written: %s", template, event_key, refused)
                return None
        # In-app messages are delivered by being written, unless they wait for the end of quiet hours.
        delivered = channel == Message.Channel.INAPP and send_after is None
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    event_key=event_key,
                    channel=channel,
                    recipient=recipient,
                    phone=phone,
                    template=template,
                    params=public,
                    body=render_redacted(template, public, channel=channel),
                    secret=json.dumps(secret) if secret else "",
                    secret_until=(expires_at or now + settings.NOTIFY_SECRET_TTL) if secret else None,
                    marketing=spec.marketing,
                    send_after=send_after,
                    status=Message.Status.SENT if delivered else Message.Status.PENDING,
                    sent_at=now if delivered else None,
                    backend="inapp" if channel == Message.Channel.INAPP else "",
                )
        except IntegrityError:
            return Message.objects.get(event_key=event_key, channel=channel, phone=phone)
    if channel == Message.Channel.SMS and send_after is None:
        urgent = bool(secret)
        transaction.on_commit(lambda: _dispatch(message.pk, urgent=urgent))
    return message


def _dispatch(message_id: int, *, urgent: bool) -> None:
    """Hand a new SMS to the worker. When the broker is down the task is not queued (gigmarket.celery's
    ResilientTask) and the worker's sweep sends the row later — except a one-time code, which cannot wait:
    the person is at the login page now, so this request sends it itself, through the same exactly-once
    path (the row is claimed under a lease, so a later sweep never sends it twice)."""
    if dispatch("notifications.tasks.deliver_message", message_id) is not None or not urgent:
        return
    try:
        message_deliver(message_id=message_id)
    except Exception:  # the provider failed too: the row stays due, the worker's sweep retries it
        logger.exception("code message %s could not be sent inline; left for the sweep", message_id)


def message_deliver(*, message_id: int) -> Message | None:
    """Deliver this pending SMS now (with other due ones in the same batch); sent ones are left alone."""
    deliver(first_id=message_id)
    return Message.objects.filter(pk=message_id).first()


# ------------------------------------------------------------------------------------------- inbox


def message_mark_read(*, user, message_id: int) -> Message:
    """Mark one of the user's own in-app messages read; another user's message is 'not found'."""
    message = inbox(user=user).filter(pk=message_id).first()
    if message is None:
        raise Message.DoesNotExist
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())
        message.refresh_from_db(fields=["read_at"])
    return message


def messages_mark_all_read(*, user) -> int:
    return inbox(user=user).filter(read_at__isnull=True).update(read_at=timezone.now())


# ------------------------------------------------------------------------------------- preferences

PREFERENCE_FIELDS = ("marketing_consent", *Preference.SWITCHES)


@transaction.atomic
def preferences_update(*, user, actor=None, source: str = "", **changes) -> Preference:
    """Change a user's message preferences (consent to recommendations, per-type switches).

    Every change is recorded (the proof of consent). Withdrawing consent or switching a type off also
    cancels marketing messages of that kind still waiting (e.g. for quiet hours to end)."""
    for name, value in changes.items():
        if name not in PREFERENCE_FIELDS:
            raise DomainError(f"没有这个设置项：{name}", field=name)
        if not isinstance(value, bool):
            raise DomainError("请选择“是”或“否”", field=name)
    Preference.objects.get_or_create(user=user)
    pref = Preference.objects.select_for_update().get(user=user)
    diff = {name: value for name, value in changes.items() if getattr(pref, name) != value}
    if not diff:
        return pref
    for name, value in diff.items():
        setattr(pref, name, value)
    fields = [*diff, "updated_at"]
    if "marketing_consent" in diff:
        pref.marketing_consent_at = timezone.now() if pref.marketing_consent else None
        fields.append("marketing_consent_at")
    pref.save(update_fields=fields)
    PreferenceEvent.objects.create(user=user, actor=actor or user, changes=diff, source=source)
    _cancel_unwanted(pref=pref)
    return pref


def _cancel_unwanted(*, pref: Preference) -> None:
    waiting = Message.objects.filter(recipient=pref.user, marketing=True, status=Message.Status.PENDING).only(
        "pk", "channel", "template"
    )
    refused = [
        m.pk
        for m in waiting
        if not pref.allows(
            channel=m.channel,
            category=(TEMPLATES[m.template].category if m.template in TEMPLATES else "") or "recommendation",
        )
    ]
    if refused:
        Message.objects.filter(pk__in=refused, status=Message.Status.PENDING).update(
            status=Message.Status.FAILED, last_error="用户已退订，未发送"
        )


# ---------------------------------------------------------------------------------- order events


def order_settled_notify(*, order) -> None:
    """The worker's pay for ``order`` is all in their wallet: tell them (SMS and in-app), once per order."""
    params = {"post": order.post.title, "amount": f"{order.paid_fen // 100}.{order.paid_fen % 100:02d}"}
    for channel in (Message.Channel.INAPP, Message.Channel.SMS):
        message_queue(
            event_key=f"order:{order.pk}:settled",
            template="order_settled",
            params=params,
            recipient=order.worker,
            channel=channel,
        )


# ----------------------------------------------------------------------------------- SMS replies

# Replies that withdraw consent to marketing messages ("退订回T" is appended to every marketing SMS).
OPT_OUT_REPLIES = {"T", "TD", "退订", "取消", "N"}


def sms_reply_received(*, phone: str, content: str) -> bool:
    """A reply from a number: an opt-out word withdraws that user's consent to recommendations.

    Returns whether it was an opt-out. Anything else is ignored (the hall phones people who need help)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if content.strip().upper() not in OPT_OUT_REPLIES:
        return False
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(phone=digits).first()
    if user is not None:
        preferences_update(user=user, marketing_consent=False, source="sms_reply")
    logger.info("SMS opt-out reply received (%s)", "user found" if user else "no user with that number")
    return True
