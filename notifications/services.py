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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import live
from core.dispatch import dispatch
from core.errors import DomainError

from .bulk import insert_messages
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
    that_day = 0
    if channel == Message.Channel.SMS and pref is not None:
        that_day = _marketing_that_day(phones=[phone], send_at=send_at).get(phone, 0)
    return _refusal(template=template, pref=pref, channel=channel, that_day=that_day)


def _refusal(*, template, pref: Preference | None, channel: str, that_day: int) -> str:
    """The marketing rules for one message, given the recipient's (locked) preference and how many marketing
    SMS already reach that number on the send day: '' when it may be written."""
    if pref is None or not pref.marketing_consent:
        return "no marketing consent"
    if not pref.allows(channel=channel, category=template.category or "recommendation"):
        return f"user switched off {template.kind} by {channel}"
    if channel == Message.Channel.SMS and that_day >= settings.NOTIFY_MARKETING_DAILY_CAP:
        return "daily marketing cap for this number reached"
    return ""


def _marketing_that_day(*, phones, send_at: dt.datetime) -> dict[str, int]:
    """Per number: the marketing SMS that reach it on the day of ``send_at`` — sent that day, or waiting to
    go out that day (held overnight by quiet hours), whenever they were written. One query for all."""
    day_start, day_end = _send_day(send_at)
    # When each one goes out: its send time once sent, else when it may be sent (or was written).
    goes_out = Coalesce("sent_at", "send_after", "created_at")
    rows = (
        Message.objects.filter(phone__in=list(phones), channel=Message.Channel.SMS, marketing=True)
        .exclude(status=Message.Status.FAILED, sent_at__isnull=True)
        .alias(goes_out=goes_out)
        .filter(goes_out__gte=day_start, goes_out__lt=day_end)
        .order_by()
        .values("phone")
        .annotate(n=Count("pk"))
        .values_list("phone", "n")
    )
    return dict(rows)


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
    if channel == Message.Channel.INAPP and delivered:
        live.user_messages_on_commit([(message.recipient_id, message.pk)])  # the open pages (docs/live.md)
    if channel == Message.Channel.SMS and send_after is None:
        urgent = bool(secret)
        transaction.on_commit(lambda: _dispatch(message.pk, urgent=urgent))
    return message


def _dispatch(message_id: int, *, urgent: bool) -> None:
    """Hand a new SMS to the worker. When the broker is down the task is not queued (gigmarket.celery's
    ResilientTask) and the worker's sweep sends the row later — except a one-time code, which cannot wait:
    the person is at the login page now, so this request sends it itself, through the same exactly-once
    path (the row is claimed under a lease, so a later sweep never sends it twice).

    A code goes to its own Celery queue (``CELERY_TASK_ROUTES``: ``deliver_code`` → ``codes``), which a
    worker of its own consumes: a login code never waits behind a fan-out's batches."""
    task = "notifications.tasks.deliver_code" if urgent else "notifications.tasks.deliver_message"
    if dispatch(task, message_id) is not None or not urgent:
        return
    try:
        message_deliver(message_id=message_id)
    except Exception:  # the provider failed too: the row stays due, the worker's sweep retries it
        logger.exception("code message %s could not be sent inline; left for the sweep", message_id)


def _dispatch_many(message_ids: list[int]) -> None:
    """Hand many new (non-code) SMS to the workers: one task for them all (a publish costs about a
    millisecond, more than writing ten rows); the task claims and sends them ``NOTIFY_BATCH_SIZE`` at a
    time, each slice under its own lease. A task the broker does not take leaves its rows to the sweep."""
    if message_ids:
        dispatch("notifications.tasks.deliver_messages", message_ids)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message of a fan-out (:func:`message_queue_bulk`): the arguments of ``message_queue``."""

    event_key: str
    template: str
    params: dict
    phone: str = ""
    recipient: Any = None


def message_queue_bulk(
    outgoing: Iterable[Outgoing],
    *,
    channel: str = Message.Channel.SMS,
    expires_at: dt.datetime | None = None,
    chunk: int = 1000,
) -> list[Message | None]:
    """``message_queue`` for many messages at once — the same rows, rules and answers (one per item, in
    order: the row, the earlier row of a repeated event, or None when a marketing message is refused) — but
    a few queries per ``chunk`` items instead of a few per message: existing rows, preferences (locked, in
    one order) and daily counts are read together, new rows are written with one statement
    (``bulk.insert_messages``), and after commit delivery is queued as one task per chunk (it sends
    ``NOTIFY_BATCH_SIZE`` rows at a time; codes: one task each, on the codes queue). Runs in the caller's transaction, like ``message_queue``."""
    items = list(outgoing)
    out: list[Message | None] = []
    for start in range(0, len(items), chunk):
        out += _queue_chunk(items[start : start + chunk], channel=channel, expires_at=expires_at)
    return out


def _queue_chunk(items: list[Outgoing], *, channel: str, expires_at: dt.datetime | None) -> list:
    for item in items:
        if item.template not in TEMPLATES:
            raise KeyError(f"unknown message template {item.template!r}")
    now = timezone.now()
    phones = [item.phone or (item.recipient.phone if item.recipient is not None else "") for item in items]
    with transaction.atomic():
        existing = {
            (m.event_key, m.phone): m
            for m in Message.objects.filter(channel=channel, event_key__in={i.event_key for i in items})
        }
        refused = _refusals_bulk(items, phones, existing=existing, channel=channel, now=now)
        held_until = quiet_hours_end(at=now)  # for marketing rows
        code_until = expires_at or now + settings.NOTIFY_SECRET_TTL
        inapp = channel == Message.Channel.INAPP
        keys: set[tuple[str, str]] = set()
        values: list[dict] = []
        users: list = []
        for item, phone in zip(items, phones, strict=True):
            key = (item.event_key, phone)
            if key in existing or key in keys or key in refused:
                continue
            spec = TEMPLATES[item.template]
            public, secret = split_secret(item.template, item.params)
            send_after = held_until if spec.marketing else None
            delivered = inapp and send_after is None
            keys.add(key)
            users.append(item.recipient)
            values.append(
                {
                    "event_key": item.event_key,
                    "channel": channel,
                    "recipient_id": item.recipient.pk if item.recipient is not None else None,
                    "phone": phone,
                    "template": item.template,
                    "params": public,
                    "body": render_redacted(item.template, public, channel=channel),
                    "secret": json.dumps(secret) if secret else "",
                    "secret_until": code_until if secret else None,
                    "marketing": spec.marketing,
                    "send_after": send_after,
                    "status": Message.Status.SENT if delivered else Message.Status.PENDING,
                    "sent_at": now if delivered else None,
                    "backend": "inapp" if inapp else "",
                    "created_at": now,
                }
            )
        written = insert_messages(values, recipients=users)
        rows = {(m.event_key, m.phone): m for m in written}
        if len(rows) < len(values):
            # Another writer queued some of these events meanwhile: theirs are the rows (as message_queue).
            taken = {key for key in keys if key not in rows}
            existing.update(
                ((m.event_key, m.phone), m)
                for m in Message.objects.filter(channel=channel, event_key__in={k for k, _ in taken})
                if (m.event_key, m.phone) in taken
            )
    for key, why in refused.items():
        logger.info("message for event %s not written: %s", key[0], why)
    if channel == Message.Channel.INAPP:  # the open pages (docs/live.md): one wake-up for the batch
        live.user_messages_on_commit([(m.recipient_id, m.pk) for m in rows.values() if m.sent_at])
    if channel == Message.Channel.SMS:
        due = [m for m in rows.values() if m.send_after is None]
        codes = [m.pk for m in due if m.secret]
        others = [m.pk for m in due if not m.secret]

        def dispatch() -> None:
            for pk in codes:
                _dispatch(pk, urgent=True)
            _dispatch_many(others)

        transaction.on_commit(dispatch)
    found = {**existing, **rows}
    return [found.get((item.event_key, phone)) for item, phone in zip(items, phones, strict=True)]


def _refusals_bulk(items, phones, *, existing, channel: str, now: dt.datetime) -> dict[tuple[str, str], str]:
    """The marketing messages among ``items`` that must not be written, keyed (event, phone), with why —
    the rules of ``_marketing_refused``, read for all at once; two in one batch for one number both count
    towards its daily cap."""
    wanted = [
        (item, phone)
        for item, phone in zip(items, phones, strict=True)
        if TEMPLATES[item.template].marketing and (item.event_key, phone) not in existing
    ]
    if not wanted:
        return {}
    send_at = quiet_hours_end(at=now) or now
    users = sorted({item.recipient.pk for item, _ in wanted if item.recipient is not None})
    prefs = {
        pref.user_id: pref
        for pref in Preference.objects.select_for_update().filter(user_id__in=users).order_by("user_id")
    }
    counts: dict[str, int] = {}
    if channel == Message.Channel.SMS:
        counts = _marketing_that_day(phones={phone for _, phone in wanted}, send_at=send_at)
    refused: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, str]] = set()
    for item, phone in wanted:
        key = (item.event_key, phone)
        if key in seen:
            continue
        seen.add(key)
        if item.recipient is None:
            refused[key] = "no user, so no consent"
            continue
        why = _refusal(
            template=TEMPLATES[item.template],
            pref=prefs.get(item.recipient.pk),
            channel=channel,
            that_day=counts.get(phone, 0),
        )
        if why:
            refused[key] = why
        elif channel == Message.Channel.SMS:
            counts[phone] = counts.get(phone, 0) + 1
    return refused


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
