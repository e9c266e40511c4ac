"""What a stream sends, read from the database (sync; the ASGI side runs these in its thread pool).

A user's events are their own delivered in-app outbox rows (``notifications.Message``): the event id is
the message id, so a reconnect's ``Last-Event-ID`` replays exactly what was missed. A recommendation
(``post_recommended_inapp``) carries its post, for the alert card and its one-tap 抢单."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from jobs.models import Post
from notifications.models import Message
from notifications.quiet_hours import quiet_hours_end

POST_TEMPLATES = {"post_recommended_inapp"}
_MATCH_KEY = re.compile(r"^match:(\d+):\d+$")  # matching.services._push_one's event key
PUBLIC_STATUSES = (Post.Status.OPEN, Post.Status.FILLED)


def _inbox():
    return Message.objects.filter(channel=Message.Channel.INAPP, status=Message.Status.SENT)


def _post_id(message: Message) -> int | None:
    if message.template not in POST_TEMPLATES:
        return None
    found = _MATCH_KEY.match(message.event_key)
    return int(found.group(1)) if found else None


def post_fields(post: Post) -> dict:
    return {
        "id": post.pk,
        "slots_left": post.slots_left,
        "slots": post.slots,
        "status": post.status,
        "grab": post.mode == Post.Mode.GRAB,
        "url": reverse("jobs:post_detail", args=[post.pk]),
        "claim_url": reverse("jobs:claim", args=[post.pk]),
    }


def message_events(messages: list[Message], *, replay: bool = False) -> list[dict]:
    """The events of these messages, oldest first. ``silent``: written in quiet hours (no chime)."""
    post_ids = {pk for pk in map(_post_id, messages) if pk is not None}
    posts = Post.objects.in_bulk(post_ids) if post_ids else {}
    out = []
    for m in sorted(messages, key=lambda m: m.pk):
        post = posts.get(_post_id(m))
        params = m.params or {}
        event = {
            "id": m.pk,
            "kind": m.template,
            "text": m.body,
            "at": timezone.localtime(m.created_at).isoformat(timespec="seconds"),
            "silent": replay or quiet_hours_end(at=m.created_at) is not None,
            "replay": replay,
        }
        if post is not None and post.status in PUBLIC_STATUSES:
            event["post"] = {
                **post_fields(post),
                "title": params.get("post") or post.title,
                "pay": params.get("pay", ""),
                "place": params.get("place", ""),
                "start": params.get("start", ""),
            }
        out.append(event)
    return out


def user_events_after(
    *, user_id: int, after: int | None, since: dt.datetime | None = None
) -> tuple[int, list]:
    """(cursor, events) for a stream opening: the messages after ``after`` (a Last-Event-ID), or those
    written since ``since`` (the page's render time), within the replay window and limit; with neither,
    none: the cursor is the newest message now."""
    mine = _inbox().filter(recipient_id=user_id)
    if after is None and since is None:
        return (mine.order_by("-pk").values_list("pk", flat=True).first() or 0), []
    newest = mine.order_by("-pk").values_list("pk", flat=True).first() or 0
    window = timezone.now() - dt.timedelta(seconds=settings.LIVE_REPLAY_WINDOW_SECONDS)
    rows = mine.filter(created_at__gte=max(window, since) if since else window)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    found = list(rows.order_by("-pk")[: settings.LIVE_REPLAY_LIMIT])
    cursor = max([newest, after or 0, *(m.pk for m in found)])
    return cursor, message_events(found, replay=after is not None)


def events_for_messages(message_ids: list[int]) -> dict[int, list[dict]]:
    """The live events of these new messages, by recipient (one query for a whole fan-out)."""
    by_user: dict[int, list[dict]] = defaultdict(list)
    messages = list(_inbox().filter(pk__in=message_ids).exclude(recipient=None))
    owner = {m.pk: m.recipient_id for m in messages}
    for event in message_events(messages):
        by_user[owner[event["id"]]].append(event)
    return by_user


def slots_snapshot(post_ids: list[int] | None) -> list[dict]:
    """The public slot counts of these posts now (a stream's first events: nothing missed before it)."""
    if not post_ids:
        return []
    rows = (
        Post.objects.filter(pk__in=post_ids, status__in=PUBLIC_STATUSES)
        .order_by("pk")
        .values_list("pk", "slots_left", "status")
    )
    return [slot_event(pk, left, status) for pk, left, status in rows]


def slot_event(post_id: int, slots_left: int, status: str) -> dict:
    return {"post": post_id, "slots_left": slots_left, "status": status}


def frame(event: dict) -> bytes:
    """One SSE frame: a user's event (``id:`` = message id, ``event: message``) or a slot count."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    if "id" not in event:
        return f"event: slots\ndata: {data}\n\n".encode()
    return f"id: {event['id']}\nevent: message\ndata: {data}\n\n".encode()
