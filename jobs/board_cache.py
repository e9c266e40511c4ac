"""The public board's page cache (design: "Redis cache for hot lists").

A board page is the same for every visitor, so its rendered JSON is kept, keyed on the raw query, through
``core.swr.StaleWhileRebuild`` (the big screen uses the same helper):

- in the shared cache (Redis), fresh for ``BOARD_CACHE_SECONDS``; a stale page is rebuilt by one visitor
  while everyone else is still served the stale copy (no stampede, nobody queues behind the rebuild);
- in each server process for ``BOARD_LOCAL_CACHE_SECONDS`` (at most the shared time), so a hot page costs a
  dictionary lookup rather than a round trip.

Only pages of queries that validated are stored, so a hit needs no validation. A post that fills
meanwhile stays listed for those seconds and is refused at claim time.

While Redis is down (``core.cache`` answers misses), pages are built from the database and each process
keeps its copies for the whole ``BOARD_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.conf import settings

from core.swr import StaleWhileRebuild

LOCAL_MAX_PAGES = 512  # per process: about 5 MB at ~10 kB a page

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


def page(key: str, build: Callable[[], bytes | None]) -> tuple[bytes | None, bool]:
    """(body, served from the cache). ``build()`` answers the page's bytes, or None for a page that must not
    be kept (a refused query); then the caller answers with what its view returned."""
    found, body = pages.lookup(key)
    if found:
        return body, True
    return pages.rebuild(key, build), False


def clear_local() -> None:
    pages.clear_local()
