"""One subscriber per ASGI process, fanning wake-ups out to the open streams (docs/live.md).

The hub keeps, for the running event loop, the open streams by user and the public slot streams; one
Redis connection (``redis.asyncio`` pub/sub on the two channels of :mod:`core.live`) feeds them all, never
one per client. Without ``LIVE_REDIS_URL`` the hub listens to :mod:`core.live`'s in-process broker instead.

A user wake-up names message ids; the hub reads the messages of the users it holds streams for in one
query per burst (a fan-out of a thousand messages is one query, not a thousand) in its thread pool, and
puts each event on the queues of its owner's streams only. When the subscriber loses Redis every stream
is ended with a ``fallback`` event (the pages poll, and try the stream again later); new streams are
refused with 503 until the subscriber is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from core import live

from . import events

logger = logging.getLogger(__name__)

# Database reads of the streams: a few threads of their own, so thousands of streams never mean
# thousands of threads or connections (Django's per-request thread is not used: see streams.py).
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="live-db")


def in_thread(func):
    """``func`` as a coroutine in the pool, as one unit of work: its connection is checked (and closed when
    past ``CONN_MAX_AGE``) before and after, as Django does around a request."""

    def unit(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(unit, thread_sensitive=False, executor=_executor)


CLOSE = object()  # put on a stream's queue: end the stream
FALLBACK = object()  # put on a stream's queue: say "poll instead", then end
PING = object()  # put on a stream's queue: write a heartbeat comment


class Stream:
    """One open connection: its queue, its owner (None: public) and the posts it watches (None: all)."""

    __slots__ = ("cursor", "ends_at", "posts", "queue", "user_id")

    def __init__(self, *, user_id: int | None = None, posts: frozenset[int] | None = None):
        self.user_id = user_id
        self.posts = posts
        self.cursor = 0
        self.ends_at = asyncio.get_running_loop().time() + settings.LIVE_STREAM_MAX_SECONDS
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=settings.LIVE_QUEUE_SIZE)

    def put(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:  # a client that reads nothing: end it, its reconnect replays
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.get_nowait()
                self.queue.put_nowait(CLOSE)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.users: dict[int, set[Stream]] = defaultdict(set)
        self.public: set[Stream] = set()
        self.count = 0
        self.up = False
        self._ready = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._pending: set[int] = set()
        self._flushing = False
        self.local = not settings.LIVE_REDIS_URL

    # ---------------------------------------------------------------------------- subscriber
    async def ensure(self, timeout: float = 2.0) -> bool:
        """Start the subscriber if needed; whether it is up (False: streams refused, pages poll)."""
        if self._ticker is None:
            self._ticker = self.loop.create_task(self._tick())
        if self._task is None:
            if self.local:
                live.add_local_listener(self._from_thread)
                self.up = True
                self._task = self.loop.create_future()  # nothing to run; marks the hub as started
                return True
            self._task = self.loop.create_task(self._run())
        if not self.up:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._ready.wait()), timeout)
        return self.up

    def _from_thread(self, name: str, payload: dict) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed (server stopping)
            self.loop.call_soon_threadsafe(self.dispatch, name, payload)

    async def _run(self) -> None:
        names = {live.channel_name(n): n for n in live.CHANNELS}
        delay = 1.0
        while True:
            client = aioredis.Redis.from_url(
                settings.LIVE_REDIS_URL,
                socket_connect_timeout=settings.LIVE_REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*names)
                self.up, delay = True, 1.0
                self._ready.set()
                logger.info("live: subscriber up")
                idle = 0.0
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is None:
                        idle += 5.0
                        if idle >= 15.0:  # a dead peer shows on the next write
                            await pubsub.ping()
                            idle = 0.0
                        continue
                    idle = 0.0
                    if message.get("type") != "message":
                        continue
                    name = names.get(message["channel"].decode())
                    if name is not None:
                        self.dispatch(name, json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis gone (or a bad payload): every stream falls back
                logger.warning(
                    "live: subscriber lost Redis (%s); streams fall back to polling", type(exc).__name__
                )
                self._down()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _tick(self) -> None:
        """One timer for every stream (not one per stream): a heartbeat each ``LIVE_HEARTBEAT_SECONDS``,
        and the end of a stream past ``LIVE_STREAM_MAX_SECONDS`` (the browser reconnects; auth re-checked)."""
        while True:
            await asyncio.sleep(settings.LIVE_HEARTBEAT_SECONDS)
            now = self.loop.time()
            for stream in self.all_streams():
                stream.put(CLOSE if now >= stream.ends_at else PING)

    def _down(self) -> None:
        self.up = False
        self._ready = asyncio.Event()
        for stream in self.all_streams():
            stream.put(FALLBACK)

    async def close(self) -> None:
        """Server stopping: end every stream, stop the subscriber."""
        for stream in self.all_streams():
            stream.put(CLOSE)
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self.local:
            live.remove_local_listener(self._from_thread)
        elif self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._task, self.up = None, False

    # ---------------------------------------------------------------------------- streams
    def all_streams(self) -> list[Stream]:
        return [s for streams in self.users.values() for s in streams] + list(self.public)

    def add(self, stream: Stream) -> None:
        if stream.user_id is None:
            self.public.add(stream)
        else:
            self.users[stream.user_id].add(stream)
        self.count += 1

    def remove(self, stream: Stream) -> None:
        if stream.user_id is None:
            self.public.discard(stream)
        else:
            mine = self.users.get(stream.user_id)
            if mine is not None:
                mine.discard(stream)
                if not mine:
                    del self.users[stream.user_id]
        self.count -= 1

    def streams_of(self, user_id: int) -> int:
        return len(self.users.get(user_id, ()))

    # ---------------------------------------------------------------------------- fan-out
    def dispatch(self, name: str, payload: dict) -> None:
        if name == live.SLOTS:
            post = int(payload["p"])
            data = events.frame(events.slot_event(post, int(payload["n"]), str(payload["s"])))
            for stream in list(self.public):
                if stream.posts is None or post in stream.posts:
                    stream.put(data)
        elif name == live.USER:
            wanted = {int(m) for u, m in payload.get("e", ()) if int(u) in self.users}
            if wanted:
                self._pending |= wanted
                if not self._flushing:
                    self._flushing = True
                    self.loop.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(0)  # let a burst of wake-ups gather
                ids, self._pending = sorted(self._pending), set()
                try:
                    by_user = await in_thread(events.events_for_messages)(ids)
                except Exception:  # the database is down: the streams' replay on reconnect covers it
                    logger.exception("live: could not read %s new messages", len(ids))
                    continue
                for user_id, found in by_user.items():
                    for stream in list(self.users.get(user_id, ())):
                        for event in found:
                            stream.put(event)
        finally:
            self._flushing = False


_hub: Hub | None = None


def get_hub() -> Hub:
    """The hub of the running event loop (a new loop — a test, a restart — gets a new hub)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        if _hub is not None and _hub.local:
            live.remove_local_listener(_hub._from_thread)
        _hub = Hub(loop)
    return _hub
