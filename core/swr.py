"""Stale-while-rebuild: a value built from the database, kept in the shared cache and in each process.

One helper for every hot read that is the same for all its visitors (the public board's pages, the hall's
big screen): ::

    pages = StaleWhileRebuild("board:v4", fresh=lambda: settings.BOARD_CACHE_SECONDS,
                              local=lambda: settings.BOARD_LOCAL_CACHE_SECONDS, local_max=512)
    body = pages.get(key, build)          # build() → value, or None for "do not keep this one"

- The shared cache (Redis) holds ``(fresh until, value)`` for ``fresh × keep`` seconds. While fresh it is
  served as it is. Once stale, the first caller to notice takes a short lock (``cache.add``) and builds the
  value again while every other caller is still served the stale copy: an expiry never sends every
  server to the database at once and nobody queues behind the rebuild. A build that fails or declines
  (``None``) frees the lock at once.
- Each process keeps what it read or built for ``local`` seconds (at most ``fresh``), so a hot key costs a
  dictionary lookup rather than a round trip; at most ``local_max`` keys, least recently used out first.
- While Redis is down (``core.cache.ResilientRedisCache`` answers misses, drops writes, and ``add`` says
  yes), every caller builds from the database and each process keeps its copy for the whole ``fresh``
  time instead, so the database sees one build per key per process per period, not one per visitor.
- ``fresh`` of 0 switches the cache off: every call builds.

The seconds are callables so settings changed at run time (tests, ``override_settings``) apply at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from .cache import breaker as shared_cache_breaker

Seconds = Callable[[], float]


class StaleWhileRebuild:
    def __init__(
        self,
        prefix: str,
        *,
        fresh: Seconds,
        local: Seconds = lambda: 0,
        local_max: int = 512,
        keep: int = 3,
        lock_seconds: float = 10,
    ) -> None:
        self.prefix = prefix
        self.fresh = fresh
        self.local = local
        self.local_max = local_max
        self.keep = (
            keep  # a stale copy stays in the shared cache this many periods, to serve during a rebuild
        )
        self.lock_seconds = lock_seconds  # a rebuild that died frees the key after this
        self._local: OrderedDict[str, tuple[float, float, Any]] = (
            OrderedDict()
        )  # key → (local until, fresh until, value)
        self._mutex = threading.Lock()
        # Keys whose rebuild lock this thread holds: only those have a lock to free, so a plain miss costs
        # two round trips to the shared cache (read, write), not three.
        self._held = threading.local()

    # ---------------------------------------------------------------------------------------- keys

    def shared_key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def lock_key(self, key: str) -> str:
        return f"{self.prefix}:{key}:rebuild"

    # -------------------------------------------------------------------------------------- reading

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        """The value for ``key``: a fresh copy, a stale one while somebody else rebuilds it, or ``build()``'s
        (kept unless it is None)."""
        found, value = self.lookup(key)
        return value if found else self.rebuild(key, build)

    def rebuild(self, key: str, build: Callable[[], Any]) -> Any:
        """After a :meth:`lookup` that answered "build it": ``build()``'s value, kept unless it is None."""
        try:
            value = build()
        except BaseException:
            self.release(key)
            raise
        if value is None:
            self.release(key)
        else:
            self.store(key, value)
        return value

    def lookup(self, key: str) -> tuple[bool, Any]:
        """(True, value) to serve, or (False, None) when the caller must build it: there is no copy, or the
        copy is stale and this caller took the rebuild lock (then it must :meth:`store` or :meth:`release`)."""
        if not self.fresh():
            return False, None
        now = time.time()
        hit = self._local.get(key)
        if hit is not None and hit[0] > now and hit[1] > now:
            return True, hit[2]
        entry = cache.get(self.shared_key(key))
        if entry is None:
            return False, None
        fresh_until, value = entry
        if fresh_until > now:
            self._remember(key, fresh_until, value, now)
            return True, value
        if cache.add(self.lock_key(key), 1, self.lock_seconds):
            self._holding().add(key)
            return False, None  # stale, and this caller rebuilds it
        return True, value  # stale: somebody else is rebuilding it

    # -------------------------------------------------------------------------------------- writing

    def store(self, key: str, value: Any) -> None:
        seconds = self.fresh()
        if not seconds:
            return
        now = time.time()
        cache.set(self.shared_key(key), (now + seconds, value), seconds * self.keep)
        self._unlock(key)
        self._remember(key, now + seconds, value, now)

    def release(self, key: str) -> None:
        """Give up a rebuild without a value: the next caller tries again."""
        if self.fresh():
            self._unlock(key)

    def _holding(self) -> set[str]:
        held = getattr(self._held, "keys", None)
        if held is None:
            held = self._held.keys = set()
        return held

    def _unlock(self, key: str) -> None:
        held = self._holding()
        if key in held:
            held.discard(key)
            cache.delete(self.lock_key(key))

    def _remember(self, key: str, fresh_until: float, value: Any, now: float) -> None:
        fresh = self.fresh()
        seconds = min(self.local(), fresh)
        if shared_cache_breaker.open:  # no shared copy to fall back on: keep ours as long as it is fresh
            seconds = fresh
        if seconds <= 0:
            return
        with self._mutex:
            self._local[key] = (now + seconds, fresh_until, value)
            self._local.move_to_end(key)
            while len(self._local) > self.local_max:
                self._local.popitem(last=False)

    def clear_local(self) -> None:
        with self._mutex:
            self._local.clear()

    def local_value(self, key: str) -> Any:
        """This process's copy (tests and diagnostics), or None."""
        hit = self._local.get(key)
        return None if hit is None else hit[2]
