"""Scheduled messages about orders: "your job starts soon" before a confirmed order's start."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from notifications.models import Message
from notifications.services import message_queue

from .models import Order


def order_reminders_queue() -> int:
    """Queue ``order_reminder`` (SMS + in-app) for every confirmed order starting within the lead time.

    Once per order: the event key is the order's, so the beat running every few minutes never repeats it.
    Returns how many orders got a new reminder."""
    now = timezone.now()
    orders = (
        Order.objects.filter(
            status=Order.Status.CONFIRMED,
            starts_at__gt=now,
            starts_at__lte=now + settings.NOTIFY_REMINDER_LEAD,
        )
        .exclude(
            Exists(
                Message.objects.filter(
                    event_key=Concat(Value("order:"), Cast(OuterRef("pk"), CharField()), Value(":reminder")),
                    channel=Message.Channel.SMS,
                )
            )
        )
        .select_related("post", "post__area", "worker")
        .order_by("starts_at", "pk")
    )
    queued = 0
    for order in orders.iterator(chunk_size=200):
        post = order.post
        params = {
            "post": post.title,
            "start": f"{timezone.localtime(order.starts_at):%m月%d日 %H:%M}",
            "place": f"{post.area.name}{post.address}",
        }
        with transaction.atomic():
            for channel in (Message.Channel.INAPP, Message.Channel.SMS):
                message_queue(
                    event_key=f"order:{order.pk}:reminder",
                    template="order_reminder",
                    params=params,
                    recipient=order.worker,
                    channel=channel,
                )
        queued += 1
    return queued
