"""The provider's rate cap (messages per second), shared by every worker process.

A token bucket kept in Redis and updated by one Lua script, so all processes draw from the same bucket;
without Redis (the embedded set-up: one process) a bucket in local memory. ``reserve(n)`` takes n tokens
at once, letting the bucket go negative, and returns how long the caller must wait before sending: calls
queue up fairly instead of spinning.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from django.conf import settings

logger = logging.getLogger(__name__)

BURST_SECONDS = 0.2  # the bucket holds this many seconds' worth of messages: smooth, no 1-second bursts

_RESERVE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate) - n
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class LocalBucket:
    def __init__(self):
        self._lock = threading.Lock()
        self._tokens: float | None = None
        self._ts = 0.0

    def reserve(self, *, n: int, rate: float, capacity: float) -> float:
        with self._lock:
            now = time.monotonic()
            tokens = capacity if self._tokens is None else self._tokens
            tokens = min(capacity, tokens + (now - self._ts) * rate) - n
            self._tokens, self._ts = tokens, now
            return 0.0 if tokens >= 0 else -tokens / rate


class RedisBucket:
    """The shared bucket. While Redis cannot be reached, each process keeps to the cap on its own (a local
    bucket): delivery goes on, and a provider's refusal above its cap is retried like any other."""

    def __init__(self, url: str, key: str):
        import redis

        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2)
        self._script = self._client.register_script(_RESERVE)
        self._key = key
        self._local = LocalBucket()

    def reserve(self, *, n: int, rate: float, capacity: float) -> float:
        try:
            return float(self._script(keys=[self._key], args=[rate, capacity, n]))
        except self._errors as exc:
            logger.warning(
                "shared SMS rate bucket unavailable (%s): keeping to the cap locally", type(exc).__name__
            )
            return self._local.reserve(n=n, rate=rate, capacity=capacity)


@lru_cache(maxsize=4)
def _bucket(url: str | None, key: str):
    return RedisBucket(url, key) if url else LocalBucket()


def bucket():
    prefix = getattr(settings, "SMS_RATE_KEY_PREFIX", "gigmarket")  # the tests give each run its own
    return _bucket(settings.SMS_RATE_REDIS_URL, f"{prefix}:sms-rate:{settings.SMS_BACKEND}")


def acquire(n: int) -> float:
    """Block until n messages may go to the provider; returns the seconds waited."""
    rate = float(settings.SMS_RATE_PER_SECOND)
    capacity = max(1.0, rate * BURST_SECONDS)
    wait = bucket().reserve(n=n, rate=rate, capacity=capacity)
    if wait > 0:
        time.sleep(wait)
    return wait
