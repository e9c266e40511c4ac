"""Reads: a user's inbox, the unread count, preferences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db.models import QuerySet

from .models import Message, Preference, PushSubscription

# The words before a message's link (「详情：」「一键接单：」「去看看：」) become the button's label.
_LINK_LEAD = re.compile(r"[。，,\s]*([\u4e00-\u9fff]{1,6})[：:]\s*$")


@dataclass(frozen=True)
class InboxEntry:
    """One inbox row as the page shows it: the text without the raw link, and the link as a button."""

    message: Message
    text: str
    href: str = ""
    label: str = ""


def inbox_entry(message: Message) -> InboxEntry:
    """A message whose ``link`` parameter is in its body shows the text without it and a button to the
    link's path. The path is relative, so the phone opens it on the site it is on (whatever
    GIGMARKET_SITE_URL, which the SMS copy carries, says); a 90-character URL never widens the page."""
    link = str(message.params.get("link") or "")
    if not link or link not in message.body:
        return InboxEntry(message=message, text=message.body)
    parts = urlsplit(link)
    if parts.scheme not in ("", "http", "https") or not parts.path.startswith("/"):
        return InboxEntry(message=message, text=message.body.replace(link, "").strip())
    href = parts.path + (f"?{parts.query}" if parts.query else "")
    before, _, after = message.body.partition(link)
    lead = _LINK_LEAD.search(before)
    label = lead.group(1) if lead else "查看"
    text = (before[: lead.start()] if lead else before).rstrip() + after.strip()
    if not text.endswith(("。", "！", "？")):
        text += "。"
    return InboxEntry(message=message, text=text, href=href, label="查看详情" if label == "详情" else label)


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


def push_subscriptions(*, user) -> QuerySet[PushSubscription]:
    """The user's own devices with 手机推送 on (newest first); never anyone else's."""
    return PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")
