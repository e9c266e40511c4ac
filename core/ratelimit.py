"""Fixed-window counters for limits keyed on things that have no row of their own (a client address, an
API caller): the SMS-code limit per address (``accounts.services.phone_code_send``) and the API throttles
(``core.throttling``).

Counted in the shared cache (Redis) when it answers; while it does not (``core.cache`` raises
:class:`~core.cache.CacheUnavailable` for counters instead of dropping them), in the database, one row per
(scope, key, window) moved by a single upsert, so parallel requests cannot both pass. If neither store can
count, the limit fails closed: the caller is refused rather than let through uncounted (an SMS code costs
money and can be used to harass a stranger).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import time

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .cache import UNREACHABLE, CacheUnavailable
from .models import RateCounter

logger = logging.getLogger(__name__)

PURGE_CHANCE = 0.01  # one database count in a hundred also deletes windows that ended


def hit(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one event; False once ``limit`` events fell in the current window (or nothing could count)."""
    return count(scope=scope, key=key, window_seconds=window_seconds) <= limit


def count(*, scope: str, key: str, window_seconds: int) -> int:
    """Count one event and return the events in the current window, this one included."""
    bucket = int(time.time()) // window_seconds
    name = f"rl:{scope}:{key}:{bucket}"
    try:
        return _cache_count(name, window_seconds)
    except (CacheUnavailable, *UNREACHABLE):
        pass
    try:
        return _db_count(name, window_seconds)
    except DatabaseError:
        logger.warning("rate limit %s: no store could count; refusing", scope)
        return 2**31


def window_left(window_seconds: int) -> float:
    """Seconds until the current window ends (a client's Retry-After)."""
    return window_seconds - time.time() % window_seconds


def _cache_count(name: str, window_seconds: int) -> int:
    count_window = getattr(cache, "count_window", None)  # Redis (core.cache): one round trip, every API call
    if count_window is not None:
        return count_window(name, window_seconds + 5)
    cache.add(name, 0, timeout=window_seconds + 5)
    try:
        return cache.incr(name)
    except ValueError:  # evicted between add and incr
        cache.set(name, 1, timeout=window_seconds + 5)
        return 1


def _db_count(name: str, window_seconds: int) -> int:
    # The key may be an address or a user id: only its hash is stored.
    digest = hashlib.sha256(name.encode()).hexdigest()
    now = timezone.now()
    expires = now + dt.timedelta(seconds=window_seconds + 5)
    table = connection.ops.quote_name(RateCounter._meta.db_table)  # from the model's meta, never input
    with transaction.atomic():  # a savepoint inside a caller's transaction: a failure stays contained
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (name, count, expires_at) VALUES (%s, 1, %s) "  # noqa: S608
                f"ON CONFLICT (name) DO UPDATE SET count = {table}.count + 1 RETURNING count",
                [digest, expires],
            )
            value = cursor.fetchone()[0]
        if random.random() < PURGE_CHANCE:  # noqa: S311 (housekeeping, not security)
            RateCounter.objects.filter(expires_at__lt=now).delete()
    return value
