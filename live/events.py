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
from jobs.templatetags.jobs_extras import yuan
from notifications.models import Message
from notifications.quiet_hours import quiet_hours_end

POST_TEMPLATES = {"post_recommended_inapp"}
_MATCH_KEY = re.compile(r"^match:(\d+):\d+$")  # matching.services._push_one's event key
PUBLIC_STATUSES = (Post.Status.OPEN, Post.Status.FILLED)
# Only what an event shows: no JSON params (parsing them was most of a fan-out's cost), no secrets.
COLUMNS = ("pk", "recipient_id", "template", "event_key", "body", "created_at")


def _inbox():
    return Message.objects.filter(channel=Message.Channel.INAPP, status=Message.Status.SENT)


def _post_id(row: dict) -> int | None:
    if row["template"] not in POST_TEMPLATES:
        return None
    found = _MATCH_KEY.match(row["event_key"])
    return int(found.group(1)) if found else None


def post_fields(post: Post) -> dict:
    return {
        "id": post.pk,
        "title": post.title,
        "pay": f"{yuan(post.pay_fen)}元/{post.get_pay_unit_display()}",
        "place": post.area.name,
        "start": f"{timezone.localtime(post.starts_at):%m月%d日 %H:%M}",
        "slots_left": post.slots_left,
        "slots": post.slots,
        "status": post.status,
        "grab": post.mode == Post.Mode.GRAB,
        "url": reverse("jobs:post_detail", args=[post.pk]),
        "claim_url": reverse("jobs:claim", args=[post.pk]),
    }


def message_events(rows: list[dict], *, replay: bool = False) -> list[dict]:
    """The events of these messages (``COLUMNS`` values), oldest first. ``silent``: written in quiet hours
    (no chime), or a replay. A post's facts are read from the post (a few posts per fan-out)."""
    post_ids = {pk for pk in map(_post_id, rows) if pk is not None}
    posts = Post.objects.select_related("area").in_bulk(post_ids) if post_ids else {}
    cards = {pk: post_fields(p) for pk, p in posts.items() if p.status in PUBLIC_STATUSES}
    out = []
    times: dict[dt.datetime, tuple[str, bool]] = {}  # a fan-out's rows share one time: work it out once
    for row in sorted(rows, key=lambda r: r["pk"]):
        at = row["created_at"]
        if at not in times:
            times[at] = (
                timezone.localtime(at).isoformat(timespec="seconds"),
                quiet_hours_end(at=at) is not None,
            )
        local, quiet = times[at]
        event = {
            "id": row["pk"],
            "kind": row["template"],
            "text": row["body"],
            "at": local,
            "silent": replay or quiet,
            "replay": replay,
        }
        card = cards.get(_post_id(row))
        if card is not None:
            event["post"] = card
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
    found = list(rows.order_by("-pk").values(*COLUMNS)[: settings.LIVE_REPLAY_LIMIT])
    cursor = max([newest, after or 0, *(m["pk"] for m in found)])
    return cursor, message_events(found, replay=after is not None)


def events_for_messages(message_ids: list[int]) -> dict[int, list[tuple[int, bytes]]]:
    """The live events of these new messages as (id, SSE frame), by recipient: one query for a whole
    fan-out, and the frames are made here, in the pool, not on the event loop."""
    by_user: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    messages = list(_inbox().filter(pk__in=message_ids).exclude(recipient=None).values(*COLUMNS))
    owner = {m["pk"]: m["recipient_id"] for m in messages}
    for event in message_events(messages):
        by_user[owner[event["id"]]].append((event["id"], frame(event)))
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
