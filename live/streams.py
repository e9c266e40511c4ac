"""The event streams, a plain ASGI app mounted at ``/events/`` by ``gigmarket/asgi.py`` (docs/live.md).

- ``GET /events/me``: the logged-in user's own events (Server-Sent Events). Session cookie auth, read in
  the hub's thread pool; no session → 401, a staff account → 403 (staff sessions have their own idle
  rules, and nothing here is for them), more than ``LIVE_MAX_STREAMS_PER_USER`` open → 429, the subscriber
  down → 503 with ``"fallback": "poll"`` — always a short JSON answer, never an error page.
  Resumes after ``Last-Event-ID`` (or ``?after=``), or from ``?since=`` (the page's render time, unix s).
- ``GET /events/slots?posts=1,2,3``: public slot counts of those posts (all posts without ``posts``):
  first the counts now, then every change.

It is not a Django view on purpose: Django's ASGI handler keeps a thread per request for its sync
middleware for as long as the response streams, so 5,000 streams would be 5,000 threads. Here a stream
is a coroutine and a queue; the database is read in a pool of four threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from http.cookies import SimpleCookie
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib import auth
from django.utils import timezone

from . import events
from .hub import CLOSE, FALLBACK, PING, Stream, get_hub, in_thread

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
    (b"x-content-type-options", b"nosniff"),
]


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] not in ("GET", "HEAD"):
        return await _json(send, 405, "只支持 GET", "method_not_allowed")
    path = scope["path"].rstrip("/")
    if path == "/events/me":
        return await _user_stream(scope, receive, send)
    if path == "/events/slots":
        return await _slots_stream(scope, receive, send)
    return await _json(send, 404, "没有这个实时通道", "not_found")


async def _json(send, status: int, detail: str, code: str, **extra) -> None:
    body = json.dumps({"detail": detail, "code": code, **extra}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    if status == 503:
        headers.append((b"retry-after", b"60"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _user_from_session(session_key: str):
    """The active user of this session cookie, or None (Django's own check, session hash included)."""
    engine = import_module(settings.SESSION_ENGINE)
    user = auth.get_user(SimpleNamespace(session=engine.SessionStore(session_key)))
    return user if user.is_authenticated and user.is_active else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


async def _user_stream(scope, receive, send) -> None:
    cookie = SimpleCookie()
    with contextlib.suppress(Exception):
        cookie.load(_header(scope, b"cookie"))
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    user = await in_thread(_user_from_session)(morsel.value) if morsel is not None and morsel.value else None
    if user is None:
        return await _json(send, 401, "请先登录", "not_authenticated")
    if user.is_staff:
        return await _json(send, 403, "工作人员账号不接收实时提醒", "permission_denied")
    hub = get_hub()
    if hub.streams_of(user.pk) >= settings.LIVE_MAX_STREAMS_PER_USER:
        return await _json(send, 429, "打开的页面太多，本页改为定时刷新", "too_many_streams", fallback="poll")
    if hub.count >= settings.LIVE_MAX_STREAMS or not await hub.ensure():
        return await _json(send, 503, "实时提醒暂不可用，页面会定时刷新", "unavailable", fallback="poll")
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    after = _int(_header(scope, b"last-event-id")) or _int((query.get("after") or [None])[0])
    since_s = _int((query.get("since") or [None])[0])
    since = None
    now = int(timezone.now().timestamp())
    if since_s and after is None and now - settings.LIVE_REPLAY_WINDOW_SECONDS <= since_s <= now:
        since = dt.datetime.fromtimestamp(since_s, tz=dt.UTC)  # a page's render time (else: from now)
    stream = Stream(user_id=user.pk)
    hub.add(stream)  # before the replay: nothing written meanwhile falls between the two
    try:
        stream.cursor, first = await in_thread(events.user_events_after)(
            user_id=user.pk, after=after, since=since
        )
        await _serve(scope, receive, send, stream, first)
    finally:
        hub.remove(stream)


async def _slots_stream(scope, receive, send) -> None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    posts = None
    if "posts" in query:
        ids = {_int(v) for v in ",".join(query["posts"]).split(",")}
        ids.discard(None)
        if not ids or len(ids) > settings.LIVE_SLOTS_MAX_POSTS:
            return await _json(
                send,
                400,
                f"posts 须为 1–{settings.LIVE_SLOTS_MAX_POSTS} 个岗位编号",
                "invalid",
                field="posts",
            )
        posts = frozenset(ids)
    hub = get_hub()
    if hub.count >= settings.LIVE_MAX_STREAMS or not await hub.ensure():
        return await _json(send, 503, "实时更新暂不可用，页面会定时刷新", "unavailable", fallback="poll")
    stream = Stream(posts=posts)
    hub.add(stream)
    try:
        first = await in_thread(events.slots_snapshot)(sorted(posts)) if posts else []
        await _serve(scope, receive, send, stream, first)
    finally:
        hub.remove(stream)


async def _serve(scope, receive, send, stream: Stream, first: list[dict]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    if scope["method"] == "HEAD":
        return await send({"type": "http.response.body", "body": b""})
    head = f"retry: {settings.LIVE_RETRY_MS}\n\n".encode() + b"".join(events.frame(e) for e in first)
    await send({"type": "http.response.body", "body": head, "more_body": True})

    async def watch() -> None:  # the client went away: end the stream now, not at the next write
        while (await receive())["type"] != "http.disconnect":
            pass
        stream.put(CLOSE)

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        while True:
            item = await stream.queue.get()  # heartbeats and the time limit come from the hub's one timer
            if item is PING:
                await send({"type": "http.response.body", "body": b": ping\n\n", "more_body": True})
                continue
            if item is CLOSE:
                break
            if item is FALLBACK:
                body = b'event: fallback\ndata: {"fallback":"poll"}\n\n'
                await send({"type": "http.response.body", "body": body, "more_body": True})
                break
            if isinstance(item, bytes):  # a public event, serialized once for all its streams
                await send({"type": "http.response.body", "body": item, "more_body": True})
                continue
            event_id, data = item  # a user's event: (message id, frame made in the pool)
            if event_id <= stream.cursor:
                continue
            stream.cursor = event_id
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    except OSError:  # the client is gone
        pass
    finally:
        watcher.cancel()
