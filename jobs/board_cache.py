"""The public board's page cache (design: "Redis cache for hot lists").

A board page is the same for every visitor, so its rendered JSON is kept, keyed on the raw query:

- in the shared cache (Redis), fresh for ``BOARD_CACHE_SECONDS``. When it goes stale, the first request
  to notice takes a short lock and builds the page again while everyone else is still served the stale
  copy, so an expiry never sends every server to the database at once (no stampede) and visitors do not
  queue behind the rebuild;
- in each server process for ``BOARD_LOCAL_CACHE_SECONDS`` (at most the shared time), so a hot page costs
  a dictionary lookup rather than a round trip.

Only pages of queries that validated are stored, so a hit needs no validation. A post that fills
meanwhile stays listed for those seconds and is refused at claim time.

While Redis is down (``core.cache`` answers misses), pages are built from the database and each process
keeps its copies for the whole ``BOARD_CACHE_SECONDS``, so the database sees at most one build of a page
per process in that time instead of one per visitor.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache

from core.cache import breaker as shared_cache_breaker

LOCAL_MAX_PAGES = 512  # per process: about 5 MB at ~10 kB a page
REBUILD_LOCK_SECONDS = 10  # a rebuild that died frees the page after this

_local: OrderedDict[str, tuple[float, float, bytes]] = OrderedDict()  # key → (local until, fresh until, body)
_lock = threading.Lock()


def key_for(query, names: tuple[str, ...]) -> str:
    """Only the board's own parameters count: anything else is ignored by the view, so it must not make a
    new entry."""
    raw = [(name, query.getlist(name)) for name in names if name in query]
    return "board:v3:" + hashlib.sha256(json.dumps(raw, ensure_ascii=False).encode()).hexdigest()


def lookup(key: str) -> bytes | None:
    """The page to serve, or None when the caller must build it (no copy, or a stale copy that this
    caller has been chosen to rebuild)."""
    if not settings.BOARD_CACHE_SECONDS:
        return None
    now = time.time()
    hit = _local.get(key)
    if hit is not None and hit[0] > now and hit[1] > now:
        return hit[2]
    entry = cache.get(key)
    if entry is None:
        return None
    fresh_until, body = entry
    if fresh_until > now:
        _remember(key, fresh_until, body, now)
        return body
    # Stale: one caller rebuilds it, the others keep serving this copy meanwhile.
    if cache.add(f"{key}:rebuild", 1, REBUILD_LOCK_SECONDS):
        return None
    return body


def store(key: str, body: bytes) -> None:
    seconds = settings.BOARD_CACHE_SECONDS
    if not seconds:
        return
    now = time.time()
    # Kept past its freshness so that a stale copy is there to serve while the page is rebuilt.
    cache.set(key, (now + seconds, body), seconds * 3)
    cache.delete(f"{key}:rebuild")
    _remember(key, now + seconds, body, now)


def _remember(key: str, fresh_until: float, body: bytes, now: float) -> None:
    seconds = min(settings.BOARD_LOCAL_CACHE_SECONDS, settings.BOARD_CACHE_SECONDS)
    if shared_cache_breaker.open:  # no shared copy to fall back on: keep ours as long as it is fresh
        seconds = settings.BOARD_CACHE_SECONDS
    if seconds <= 0:
        return
    with _lock:
        _local[key] = (now + seconds, fresh_until, body)
        _local.move_to_end(key)
        while len(_local) > LOCAL_MAX_PAGES:
            _local.popitem(last=False)


def clear_local() -> None:
    with _lock:
        _local.clear()
