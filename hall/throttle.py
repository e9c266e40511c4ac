"""Limits on the open-data API (hall/api.py): requests per token and per client address each minute, and a
back-off for an address that keeps presenting tokens that do not exist (someone guessing), whose wait
doubles with every further bad token.

Counted in Django's cache (Redis in production). The cache makes the limits cheap; it does not decide
whether they hold: when the cache cannot be reached the same limits are counted from the pull log
(:class:`hall.models.ExportPull`, one row per request, written whatever the outcome), with a warning in
the log, so an outage neither opens the API to guessing nor turns every pull into a 500.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

from .models import ExportPull, ExportToken

log = logging.getLogger(__name__)
MINUTE = 60
# What a cache that cannot be reached raises (Django's Redis backend lets redis-py's errors through).
CACHE_ERRORS = (RedisError, OSError)


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused (a 429) and how long the client should wait."""

    code: str
    detail: str
    retry_after: int


def _backoff_seconds(bad: int) -> int:
    """The wait after the ``bad``-th bad token in the window: none up to the free allowance, then the base,
    doubling with each one after (60 s, 2 min, 4 min, …), at most HALL_OPEN_DATA_BACKOFF_MAX seconds."""
    free = settings.HALL_OPEN_DATA_BAD_TOKENS_FREE
    if bad < free:
        return 0
    return min(settings.HALL_OPEN_DATA_BACKOFF_BASE * 2 ** (bad - free), settings.HALL_OPEN_DATA_BACKOFF_MAX)


def _window_left(now: float) -> int:
    return max(1, MINUTE - int(now) % MINUTE)


def _count_in_cache(key: str) -> int:
    """Count one request in this minute's bucket; the count so far."""
    name = f"opendata:{key}:{int(time.time() // MINUTE)}"
    cache.add(name, 0, timeout=MINUTE + 5)
    try:
        return cache.incr(name)
    except ValueError:  # evicted between add and incr
        cache.set(name, 1, timeout=MINUTE + 5)
        return 1


def _cache_down(exc: Exception) -> None:
    log.warning("open-data limits: cache unavailable (%s), counting from the pull log", type(exc).__name__)


def _pulls_since(seconds: int, **filters) -> int:
    return ExportPull.objects.filter(
        created_at__gte=timezone.now() - dt.timedelta(seconds=seconds), **filters
    ).count()


# ------------------------------------------------------------------------------------ by client address


def _bad_state(address: str | None) -> tuple[int, float | None]:
    """(bad tokens from ``address`` in the window, when the last one came)."""
    try:
        state = cache.get(f"opendata:bad:{address or 'unknown'}")
        return (state["count"], state["last"]) if state else (0, None)
    except CACHE_ERRORS as exc:
        _cache_down(exc)
    since = timezone.now() - dt.timedelta(seconds=settings.HALL_OPEN_DATA_BAD_TOKEN_WINDOW)
    bad = ExportPull.objects.filter(client_address=address, status_code=401, created_at__gte=since)
    last = bad.order_by("-created_at").values_list("created_at", flat=True).first()
    return bad.count(), (last.timestamp() if last else None)


def address_refusal(address: str | None) -> Refusal | None:
    """Checked before the token is looked at: an address in back-off is refused whatever it presents, and
    every request counts toward the address's rate."""
    now = time.time()
    bad, last = _bad_state(address)
    wait = _backoff_seconds(bad)
    if wait and last is not None and now < last + wait:
        left = math.ceil(last + wait - now)
        return Refusal("too_many_bad_tokens", f"无效令牌过多，请在{left}秒后重试", left)
    limit = settings.HALL_OPEN_DATA_ADDRESS_PER_MINUTE
    try:
        count = _count_in_cache(f"addr:{address or 'unknown'}")
    except CACHE_ERRORS as exc:
        _cache_down(exc)
        count = _pulls_since(MINUTE, client_address=address) + 1
    if count > limit:
        left = _window_left(now)
        return Refusal("rate_limited", f"请求过于频繁（每分钟最多{limit}次），请在{left}秒后重试", left)
    return None


def bad_token_seen(address: str | None) -> None:
    """A request without a live token (none, unknown, revoked or expired: every 401): one more toward
    back-off. Its 401 row in the pull log is what the fallback counts."""
    try:
        key = f"opendata:bad:{address or 'unknown'}"
        state = cache.get(key) or {"count": 0}
        cache.set(
            key,
            {"count": state["count"] + 1, "last": time.time()},
            timeout=settings.HALL_OPEN_DATA_BAD_TOKEN_WINDOW,
        )
    except CACHE_ERRORS as exc:
        _cache_down(exc)


# ---------------------------------------------------------------------------------------------- by token


def token_refusal(token: ExportToken) -> Refusal | None:
    limit = settings.HALL_OPEN_DATA_TOKEN_PER_MINUTE
    try:
        count = _count_in_cache(f"token:{token.pk}")
    except CACHE_ERRORS as exc:
        _cache_down(exc)
        count = (
            ExportPull.objects.filter(
                token=token, created_at__gte=timezone.now() - dt.timedelta(seconds=MINUTE)
            )
            .exclude(status_code__in=(401, 429))
            .count()
            + 1
        )
    if count > limit:
        left = _window_left(time.time())
        return Refusal("rate_limited", f"该令牌请求过于频繁（每分钟最多{limit}次），请在{left}秒后重试", left)
    return None
