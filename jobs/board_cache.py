"""The public board's page cache (design: "Redis cache for hot lists").

A board page is the same for every visitor, so its rendered JSON is kept, keyed on the raw query, through
``core.swr.StaleWhileRebuild`` (the big screen uses the same helper):

- in the shared cache (Redis), fresh for ``BOARD_CACHE_SECONDS``; a stale page is rebuilt by one visitor
  while everyone else is still served the stale copy (no stampede, nobody queues behind the rebuild);
- in each server process for ``BOARD_LOCAL_CACHE_SECONDS`` (at most the shared time), so a hot page costs a
  dictionary lookup rather than a round trip.

Only pages of queries that validated are stored, so a hit needs no validation. A post that fills
meanwhile stays listed for those seconds and is refused at claim time.

A page enters the shared cache only once it is asked for again (``BOARD_CACHE_ADMIT_AFTER`` sightings in
one process, among the last ``SEEN_MAX`` pages it was asked for): most board requests are a phone's own
position or a deep page, asked for once and never again, and for those a read that misses and a write
nobody reads are two round trips and ~10 kB of Redis memory for nothing (the bench's varied rows: 461
against 589 requests a second without the cache). A hot page is seen again within moments and is kept as
before; the cost is one more build per page and process the first time it is asked for.

While Redis is down (``core.cache`` answers misses), pages are built from the database and each process
keeps its copies for the whole ``BOARD_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings

from core.swr import StaleWhileRebuild

LOCAL_MAX_PAGES = 512  # per process: about 5 MB at ~10 kB a page
SEEN_MAX = 8192  # per process: the pages asked for lately, counted for admission (keys only, ~1 MB)

pages = StaleWhileRebuild(
    "board:v4",
    fresh=lambda: settings.BOARD_CACHE_SECONDS,
    local=lambda: settings.BOARD_LOCAL_CACHE_SECONDS,
    local_max=LOCAL_MAX_PAGES,
)


def key_for(query, names: tuple[str, ...]) -> str:
    """Only the board's own parameters count: anything else is ignored by the view, so it must not make a
    new entry."""
    raw = [(name, query.getlist(name)) for name in names if name in query]
    return hashlib.sha256(json.dumps(raw, ensure_ascii=False).encode()).hexdigest()


class Doorkeeper:
    """How often each of the last ``size`` keys was asked for in this process (least recently asked out
    first): :meth:`admit` says whether a key has now been asked for ``times`` times."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._mutex = threading.Lock()

    def admit(self, key: str, times: int) -> bool:
        if times <= 1:
            return True
        with self._mutex:
            count = self._seen.pop(key, 0) + 1
            self._seen[key] = min(count, times)
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
        return count >= times

    def clear(self) -> None:
        with self._mutex:
            self._seen.clear()


seen = Doorkeeper(SEEN_MAX)


def page(key: str, build: Callable[[], bytes | None]) -> tuple[bytes | None, bool]:
    """(body, served from the cache). ``build()`` answers the page's bytes, or None for a page that must not
    be kept (a refused query); then the caller answers with what its view returned. A page this process
    has not been asked for often enough is built without touching the shared cache (module docstring)."""
    if not seen.admit(key, settings.BOARD_CACHE_ADMIT_AFTER):
        return build(), False
    found, body = pages.lookup(key)
    if found:
        return body, True
    return pages.rebuild(key, build), False


def clear_local() -> None:
    pages.clear_local()
    seen.clear()
