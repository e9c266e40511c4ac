"""The 7 a.m. rush, answered in front: 「名额已满」 from a mark in the shared cache, before any other work.

When 1,600 workers grab 200 slots, 1,400 of them are told the post is full. Through the API each of those
answers cost what a grab costs to start — the middleware stack, token authentication, the throttle's
counter, DRF, two queries — and that, not the guarded UPDATE, is what kept the last grabber waiting. A post
that is full is public knowledge (the board shows it), so the refusal needs neither the caller's identity
nor the database:

- **The full mark.** :func:`mark_full` is called when a grab finds its post full (filled, in
  :mod:`jobs.grabbing`) and on the commit of the grab that took the last slot; :func:`forget` on the commit
  of anything that can make a full post take claims again or change how it refuses (a freed slot, a
  restored, closed, cancelled or expired post: :mod:`jobs.services`).
- **The lean front.** :class:`FullPostMiddleware` sits right after the security-header middleware: a
  ``POST`` to exactly ``/api/v1/posts/<id>/claims/`` on a marked post is answered at once with the very
  409 the API gives for a filled post (same bytes; no Idempotency-Key, whose replay must still reach the
  view). Anything else goes on to the normal path, which stays the judge: a missing mark costs only speed.

**No stale 「已满」.** A mark can only be believed while nothing has reopened the post since the mark's
writer read the database: every :func:`forget` bumps the post's generation, a mark carries the generation
its writer read *before* reading the post, and the front believes a mark only when both match (one
``MGET``). A writer that saw 「已满」 just before a slot was freed writes a mark that is already dead. Marks
also expire after ``MARK_SECONDS``, in case a :func:`forget` was lost to a Redis outage.

**Tickets: admission before the database.** A post that is not yet full has a ticket counter in the
cache, about its free slots. The front takes a ticket (one atomic ``DECR`` in a Lua script, together with
the mark check: one round trip) before a grab goes on; a grab that finds no ticket left gets the same
「名额已满」 at once, so only about as many grabs as there are free slots reach PostgreSQL and queue on the
post's row. The database's guarded UPDATE stays the only judge of a slot; the counter only decides who
may ask:

- *over-admission is safe*: a ticket-holder the database refuses is refused as before;
- *a ticket comes back* (``INCR``) whenever its holder is not answered 201 — not verified, a duplicate, an
  overlap, no slot after all, an error — so a refused holder does not keep a slot from the next grabber;
- *under-admission heals*: the counter is made only from the database (:func:`open_tickets`, the
  committed ``slots_left`` of an open grab post, after a grab that found no counter, guarded by the
  generation like a mark), lives ``TICKET_SECONDS`` and is then made again from the database, and
  :func:`forget` deletes it with the marks on every commit that can free a slot or reopen the post. A
  ticket lost with its process (killed mid-request) hides a slot for at most ``TICKET_SECONDS``, and only
  while no one else's grab is refused: a refusal then says 「名额已满」 for a slot that a holder in flight
  may still give back — the same as being a moment too late.

**Redis down** (``core.cache`` answers misses): no mark and no counter are found, every request takes the
normal path. Never an error, only the old speed.
"""

from __future__ import annotations

import functools
import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer

from core import prepared
from core.cache import UNREACHABLE, CacheUnavailable, breaker

logger = logging.getLogger("gigmarket.jobs")

MARK_SECONDS = 10  # a lost forget() can hide a freed slot for at most this long
TICKET_SECONDS = 10  # a counter is made again from the database this often (a lost ticket heals)
GENERATION_SECONDS = 24 * 3600  # outlives every mark by far
FULL_CODE, FULL_DETAIL = "full", "名额已满"  # what jobs.grabbing answers for a filled post
CLAIM_PATH = re.compile(r"^/api/v1/posts/(\d{1,18})/claims/$")
# The bytes the API's exception handler renders for Conflict("名额已满", code="full") (core.api).
FULL_BODY = JSONRenderer().render({"code": FULL_CODE, "detail": FULL_DETAIL, "fields": {}})


def _mark_key(post_id: int) -> str:
    return f"grab:full:{post_id}"


def _generation_key(post_id: int) -> str:
    return f"grab:gen:{post_id}"


def _tickets_key(post_id: int) -> str:
    return f"grab:tickets:{post_id}"


def generation(post_id: int) -> int:
    """Read *before* the database says the post is full; handed to :func:`mark_full`."""
    return cache.get(_generation_key(post_id)) or 0


def mark_full(post_id: int, seen_generation: int) -> None:
    """The post was full (``status = filled``) when read after ``generation()`` returned ``seen_generation``."""
    cache.set(_mark_key(post_id), seen_generation, timeout=MARK_SECONDS)


def mark_full_on_commit(post_id: int, seen_generation: int) -> None:
    transaction.on_commit(lambda: mark_full(post_id, seen_generation))


def is_marked_full(post_id: int) -> bool:
    found = cache.get_many([_mark_key(post_id), _generation_key(post_id)])
    mark = found.get(_mark_key(post_id))
    return mark is not None and mark == (found.get(_generation_key(post_id)) or 0)


def forget(post_id: int) -> None:
    """The post may take claims again (or refuses differently): every mark written so far is dead."""
    key = _generation_key(post_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # no generation yet (or evicted): start one no live mark can carry
            if not cache.add(key, 1, timeout=GENERATION_SECONDS):
                cache.incr(key)
    except (CacheUnavailable, ValueError):
        pass  # Redis down: a mark it still holds expires within MARK_SECONDS
    cache.delete_many([_mark_key(post_id), _tickets_key(post_id)])


def forget_on_commit(*post_ids: int) -> None:
    for post_id in post_ids:
        transaction.on_commit(lambda post_id=post_id: forget(post_id))


# ------------------------------------------------------------------------------------------- tickets

FULL, NO_TICKET, TICKET, UNGATED = "full", "tickets", "ticket", "ungated"

# KEYS: mark, generation, tickets. The mark check of is_marked_full, then a ticket if the counter exists.
_ADMIT = """
local gen = redis.call('GET', KEYS[2]) or '0'
local mark = redis.call('GET', KEYS[1])
if mark and mark == gen then return {0, gen} end
local left = redis.call('GET', KEYS[3])
if not left then return {2, gen} end
if tonumber(left) <= 0 then return {-1, gen} end
redis.call('DECR', KEYS[3])
return {1, gen}
"""
# KEYS: tickets. Only into a counter that still exists (a forgotten one is made again from the database).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end
return false
"""
# KEYS: generation, tickets; ARGV: the generation read before the database, free slots, seconds.
_OPEN = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[3]) then return 1 end
return 0
"""
_VERDICTS = {0: FULL, -1: NO_TICKET, 1: TICKET, 2: UNGATED}
_scripts: dict[tuple[int, str], object] = {}


def _redis():
    """The shared cache's Redis client, or None when the cache has none (development's in-process cache,
    ``scripts/run`` without Redis): then there are no tickets, and the front asks the full mark alone."""
    get_client = getattr(getattr(cache, "_cache", None), "get_client", None)
    return get_client(write=True) if get_client is not None else None


def _run(source: str, keys: list[str], args: list | None = None):
    """One Lua script on the cache's Redis (``None`` while it is unreachable, or without Redis: the
    database path)."""
    if breaker.open:
        return None
    client = _redis()
    if client is None:
        return None
    script = _scripts.get((id(client), source))
    if script is None:
        script = _scripts[(id(client), source)] = client.register_script(source)
    try:
        return script(keys=[cache.make_key(key) for key in keys], args=args or [])
    except UNREACHABLE as exc:
        breaker.trip(exc)
    except RedisError as exc:  # e.g. a key of another type: never worth a refusal
        logger.warning("grab front: script failed (%s)", type(exc).__name__)
    return None


def admit(post_id: int) -> tuple[str, str]:
    """(verdict, generation): ``full`` (marked), ``tickets`` (none left), ``ticket`` (taken: give it back
    unless the grab is confirmed) or ``ungated`` (no counter, or Redis away)."""
    if _redis() is None:  # no Redis to count tickets in: the full mark alone, as with GRAB_TICKETS off
        return (FULL if is_marked_full(post_id) else UNGATED), ""
    found = _run(_ADMIT, [_mark_key(post_id), _generation_key(post_id), _tickets_key(post_id)])
    if not found:
        return UNGATED, ""
    verdict, generation = found
    return _VERDICTS.get(int(verdict), UNGATED), generation.decode() if isinstance(generation, bytes) else ""


def give_back(post_id: int) -> None:
    """A ticket-holder was not confirmed: the ticket is the next grabber's."""
    _run(_GIVE_BACK, [_tickets_key(post_id)])


@functools.cache
def _open_slots() -> prepared.Statement:
    """The committed free slots of an open grab post, by key (prepared: core/prepared.py)."""
    from .models import Post  # (the models need the app registry; this module is imported by settings)

    return prepared.Statement(
        f"SELECT slots_left FROM {Post._meta.db_table} WHERE id = %(pk)s AND mode = %(mode)s "  # noqa: S608
        "AND status = %(status)s AND starts_at > %(now)s"
    )


def open_tickets(post_id: int, seen_generation: str) -> bool:
    """Make the post's counter from the database's committed free slots (an open grab post only), unless a
    :func:`forget` came after ``seen_generation`` was read. True when this call made it."""
    from .models import Post  # (the models need the app registry; this module is imported by settings)

    row = _open_slots().fetchone(
        {"pk": post_id, "mode": Post.Mode.GRAB.value, "status": Post.Status.OPEN.value, "now": timezone.now()}
    )
    left = row[0] if row else 0
    if not left:
        return False
    return bool(
        _run(
            _OPEN, [_generation_key(post_id), _tickets_key(post_id)], [seen_generation, left, TICKET_SECONDS]
        )
    )


def full_response() -> HttpResponse:
    return HttpResponse(FULL_BODY, status=409, content_type="application/json")


class FullPostMiddleware:
    """Answers a grab on a post marked full, or with no ticket left, before authentication, DRF or the
    database; gives a ticket back when its holder is not confirmed (module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and "HTTP_IDEMPOTENCY_KEY" not in request.META:
            matched = CLAIM_PATH.match(request.path_info)
            if matched:
                return self._grab(request, int(matched.group(1)))
        return self.get_response(request)

    def _grab(self, request, post_id: int):
        if settings.GRAB_TICKETS:
            verdict, generation = admit(post_id)
        else:  # the full mark alone (settings.GRAB_TICKETS)
            verdict, generation = (FULL if is_marked_full(post_id) else UNGATED), ""
        if verdict in (FULL, NO_TICKET):
            response = full_response()
            response["X-Grab-Front"] = verdict
            # Not one warning line per refusal (django.request logs every 4xx): 1,400 「已满」 a rush
            # say nothing the access log does not; the database path's refusals are still logged.
            response._has_been_logged = True
            return response
        if generation.isdigit():  # read before the view reads the post: the view need not ask Redis again
            request.grab_generation = int(generation)
        confirmed = False
        try:
            response = self.get_response(request)
            confirmed = response.status_code == 201
        finally:
            if verdict == TICKET and not confirmed:
                give_back(post_id)
        if verdict == UNGATED and generation and response.status_code in (201, 409):
            open_tickets(post_id, generation)
        return response
