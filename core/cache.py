"""The shared cache as an accelerator, never a dependency (settings ``CACHES``).

``ResilientRedisCache`` is Django's Redis cache with one difference: when Redis cannot be reached, a read
is a miss and a write is dropped, so every caller falls through to the database. A connection error trips
a short circuit breaker: for ``BREAKER_SECONDS`` no call even tries Redis, so a request never waits for a
timeout per cache call. ``add`` answers True while Redis is down: a caller that uses it as a lock (the
board's and the big screen's rebuild locks) does the work itself, which is correct, only slower.

Counters are different: a silently dropped increment would switch a rate limit off. ``incr`` (and
``decr``) and ``count_window`` (a rate limit's add-and-increment in one round trip) raise
:class:`CacheUnavailable`, and ``core.ratelimit`` counts in the database instead.

``clear()`` removes only this cache's keys when it has a ``KEY_PREFIX`` (the tests give every run its
own), never the whole Redis database another process may be using.
"""

from __future__ import annotations

import functools

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .breaker import Breaker

BREAKER_SECONDS = 5.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)

breaker = Breaker("redis cache", BREAKER_SECONDS)


class CacheUnavailable(Exception):
    """The shared cache could not be reached (or was skipped by the breaker): count somewhere else."""


def _degrading(fallback):
    """Run the method against Redis; while it is unreachable, answer ``fallback`` instead."""

    def wrap(method):
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            if breaker.open:
                return fallback(args, kwargs)
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                breaker.trip(exc)
                return fallback(args, kwargs)

        return inner

    return wrap


def _default(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


def _unavailable(args, kwargs):
    raise CacheUnavailable


class _OneClientPerPool(RedisCacheClient):
    """Django's client makes a new ``redis.Redis`` for every call, and redis-py's constructor fills some 170
    response callbacks each time (≈ 0.07 ms, more than a GET's round trip on this box). One per connection
    pool serves every call: it is thread-safe, and Django keeps a cache object per thread anyway."""

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        clients = self.__dict__.setdefault("_clients", {})
        if index not in clients:
            clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return clients[index]


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool

    get = _degrading(_default)(RedisCache.get)
    get_many = _degrading(lambda a, k: {})(RedisCache.get_many)
    has_key = _degrading(lambda a, k: False)(RedisCache.has_key)
    set = _degrading(lambda a, k: None)(RedisCache.set)
    set_many = _degrading(lambda a, k: list(a[0]) if a else [])(RedisCache.set_many)
    add = _degrading(lambda a, k: True)(RedisCache.add)
    touch = _degrading(lambda a, k: False)(RedisCache.touch)
    delete = _degrading(lambda a, k: False)(RedisCache.delete)
    delete_many = _degrading(lambda a, k: None)(RedisCache.delete_many)
    incr = _degrading(_unavailable)(RedisCache.incr)

    @_degrading(_unavailable)
    def count_window(self, key: str, timeout: int) -> int:
        """``add(key, 0, timeout)`` then ``incr(key)`` in one round trip (``MULTI``: nothing can evict the
        counter in between): a rate limit's count, this event included. Raises like ``incr``."""
        key = self.make_and_validate_key(key)
        pipe = self._cache.get_client(key, write=True).pipeline(transaction=True)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        return int(pipe.execute()[1])

    @_degrading(lambda a, k: False)
    def clear(self) -> bool:
        if not self.key_prefix:
            return super().clear()
        client = self._cache.get_client(write=True)
        batch = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        return True

    def available(self) -> bool:
        """Whether Redis answers now (``/healthz``): a real round trip unless the breaker is open."""
        if breaker.open:
            return False
        try:
            return bool(self._cache.get_client(write=True).ping())
        except UNREACHABLE as exc:
            breaker.trip(exc)
            return False
