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

**Redis down** (``core.cache`` answers misses): no mark is found and every request takes the normal path.
Never an error, only the old speed.
"""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

from core.cache import CacheUnavailable

MARK_SECONDS = 10  # a lost forget() can hide a freed slot for at most this long
GENERATION_SECONDS = 24 * 3600  # outlives every mark by far
FULL_CODE, FULL_DETAIL = "full", "名额已满"  # what jobs.grabbing answers for a filled post
CLAIM_PATH = re.compile(r"^/api/v1/posts/(\d{1,18})/claims/$")
# The bytes the API's exception handler renders for Conflict("名额已满", code="full") (core.api).
FULL_BODY = JSONRenderer().render({"code": FULL_CODE, "detail": FULL_DETAIL, "fields": {}})


def _mark_key(post_id: int) -> str:
    return f"grab:full:{post_id}"


def _generation_key(post_id: int) -> str:
    return f"grab:gen:{post_id}"


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
    cache.delete(_mark_key(post_id))


def forget_on_commit(*post_ids: int) -> None:
    for post_id in post_ids:
        transaction.on_commit(lambda post_id=post_id: forget(post_id))


def full_response() -> HttpResponse:
    return HttpResponse(FULL_BODY, status=409, content_type="application/json")


class FullPostMiddleware:
    """Answers a grab on a post marked full before authentication, DRF or the database (module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and "HTTP_IDEMPOTENCY_KEY" not in request.META:
            matched = CLAIM_PATH.match(request.path_info)
            if matched and is_marked_full(int(matched.group(1))):
                response = full_response()
                response["X-Grab-Front"] = "full"
                # Not one warning line per refusal (django.request logs every 4xx): 1,400 「已满」 a rush
                # say nothing the access log does not; the database path's refusals are still logged.
                response._has_been_logged = True
                return response
        return self.get_response(request)
