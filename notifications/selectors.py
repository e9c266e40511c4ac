"""Reads: a user's inbox, the unread count, preferences."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Message, Preference


def inbox(*, user) -> QuerySet[Message]:
    """The user's in-app messages that have been delivered (newest first); never anyone else's."""
    return Message.objects.filter(
        recipient=user, channel=Message.Channel.INAPP, status=Message.Status.SENT
    ).order_by("-created_at", "-pk")


def unread_count(*, user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return inbox(user=user).filter(read_at__isnull=True).count()


def preference_get(*, user) -> Preference:
    """The user's preferences; an unsaved default row when the user never changed anything."""
    pref = Preference.objects.filter(user=user).first()
    return pref if pref is not None else Preference(user=user)
