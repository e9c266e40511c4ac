"""A fixed-window counter in the shared cache (Redis in production), for limits keyed on things that have no
row of their own, such as a client address."""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one event; False once ``limit`` events fell in the current window."""
    bucket = int(time.time() // window_seconds)
    name = f"rl:{scope}:{key}:{bucket}"
    cache.add(name, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # evicted between add and incr
        cache.set(name, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit
