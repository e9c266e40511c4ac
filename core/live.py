"""Live events, the publishing side (docs/live.md): a tiny wake-up after commit, never an error.

Two channels carry everything:

- ``user``: ``{"e": [[user_id, message_id], ...]}`` — new in-app outbox rows (``notifications.Message``)
  for these users. No text, no phone: the stream (``live``, an ASGI app) reads the rows themselves, for
  their owner only, so the wake-up carries nothing personal and a lost wake-up is replayed from the outbox.
- ``slots``: ``{"p": post_id, "n": slots_left, "s": status}`` — a post's free slots after a claim took or
  freed one; public (the board shows the same figure).

With ``LIVE_REDIS_URL`` set the wake-up is a Redis PUBLISH (every ASGI process runs one subscriber).
Without it (the embedded defaults of ``scripts/run``: one process serves pages and streams) it is handed
to the listeners registered in this process (:func:`add_local_listener`).

Publishing runs after the transaction commits (``on_commit``, robust) and swallows a Redis failure: the
request that committed never fails for it, the log says only that a wake-up was skipped, and after a
failure publishing is skipped for ``LIVE_PUBLISH_BACKOFF_SECONDS`` (no request waits on a dead Redis).
The streams then end (their subscriber lost Redis too) and pages fall back to polling.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable

import redis
from django.conf import settings
from django.db import connection, transaction

from . import prepared

logger = logging.getLogger(__name__)

USER = "user"
SLOTS = "slots"
CHANNELS = (USER, SLOTS)

Listener = Callable[[str, dict], None]
_listeners: list[Listener] = []
_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()
_down_until: dict[str, float] = {}  # by Redis URL: when publishing there may be tried again


def channel_name(name: str) -> str:
    """The Redis channel of ``user`` or ``slots`` (prefixed: test runs and sites sharing a Redis stay apart)."""
    return f"{settings.LIVE_CHANNEL_PREFIX}live:{name}"


def add_local_listener(listener: Listener) -> None:
    """Receive this process's wake-ups when there is no Redis (the in-process broker)."""
    with _lock:
        _listeners.append(listener)


def remove_local_listener(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def _client(url: str) -> redis.Redis:
    client = _clients.get(url)
    if client is None:
        timeout = settings.LIVE_REDIS_TIMEOUT_SECONDS
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        _clients[url] = client
    return client


def publish(name: str, payload: dict) -> bool:
    """Send one wake-up now; False when it was skipped (Redis unreachable or backing off)."""
    url = settings.LIVE_REDIS_URL
    if not url:
        with _lock:
            listeners = list(_listeners)
        for listener in listeners:
            try:
                listener(name, payload)
            except Exception:  # a listener's bug must not reach the request that committed
                logger.exception("live: a local listener failed")
        return True
    if time.monotonic() < _down_until.get(url, 0.0):
        return False
    try:
        _client(url).publish(channel_name(name), json.dumps(payload, separators=(",", ":")))
    except (redis.RedisError, OSError) as exc:
        _down_until[url] = time.monotonic() + settings.LIVE_PUBLISH_BACKOFF_SECONDS
        logger.warning("live: %s wake-up skipped, Redis unreachable (%s)", name, type(exc).__name__)
        return False
    return True


def user_messages_on_commit(pairs: Iterable[tuple[int | None, int | None]]) -> None:
    """After commit: wake the streams of these users for these new in-app messages (one PUBLISH)."""
    rows = [[int(user_id), int(message_id)] for user_id, message_id in pairs if user_id and message_id]
    if rows:
        transaction.on_commit(lambda: publish(USER, {"e": rows}), robust=True)


_slots_statements: dict[type, prepared.Statement] = {}


def _slots_statement(model) -> prepared.Statement:
    """The post's free slots and status, by key: after every winning 抢单, so run prepared and without
    compiling a QuerySet (core/prepared.py)."""
    statement = _slots_statements.get(model)
    if statement is None:
        table = connection.ops.quote_name(model._meta.db_table)
        statement = _slots_statements[model] = prepared.Statement(
            f"SELECT slots_left, status FROM {table} WHERE id = %(pk)s"  # noqa: S608 (the model's table)
        )
    return statement


def slots_changed_on_commit(model, pk: int) -> None:
    """After commit: publish the post's free slots as committed (read then, so racing grabs end right)."""

    def send() -> None:
        row = _slots_statement(model).fetchone({"pk": pk})
        if row is not None:
            publish(SLOTS, {"p": pk, "n": row[0], "s": row[1]})

    transaction.on_commit(send, robust=True)
