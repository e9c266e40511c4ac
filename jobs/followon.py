"""What follows a 抢单: the order, its escrow (from the post's hold), its policy, its contract, the messages.

The grab itself (:mod:`jobs.grabbing`) commits only the slot and the claim, flagged ``order_pending``, and
answers. This module makes the rest, in a Celery task queued after that commit and run
``GRAB_FOLLOWON_DELAY_SECONDS`` later (:func:`queue`; :func:`jobs.tasks.grab_followon_post`) and, for any
task lost on the way (broker down, worker killed), in the worker's recovery sweep
(:func:`jobs.tasks.grab_followon_sweep`, ``WORKER_RECOVERY_SWEEPS``).

- **Idempotent.** The claim row is locked (``SKIP LOCKED``: a second runner skips it) and only a claim still
  ``order_pending`` is worked on; clearing the flag commits with the order. Running it twice makes one order
  (and ``Order.claim`` is one-to-one; the ledger keys are the order's own).
- **Or undone, money intact.** When the order cannot be made — the post was cancelled or ended meanwhile,
  its hold is short — the savepoint is rolled back (no order, nothing moved), the claim becomes
  ``undone`` with the reason, its slot is freed and the worker gets a message.
- **One task per post, not per grab.** A grab's commit queues ``jobs.tasks.grab_followon_post`` for its
  post unless one is already queued (a key in the shared cache, ``QUEUED_SECONDS``); the task forgets the
  key first and then works through every pending claim of the post, so a grab committed after that is
  either seen by the loop or queues the next task. 200 grabs of a rush are a handful of tasks, and the web
  process publishes a handful of messages instead of 200. Each claim is still its own short transaction
  (one per claim: two orders in one transaction would lock insurance-payable shards in either order).
  Redis down: ``add`` answers True and every grab queues its task, as before.
- **Lock order** (jobs/services.py): the claim, then the post with ``FOR KEY SHARE`` — grabs still take
  slots (their guarded UPDATE does not change a key) while the post cannot be cancelled, hidden or closed
  under this transaction — then the new order's rows and the ledger accounts in pk order (the post's hold,
  the order's escrow, insurance payable — split per day and shard by insurance/payable.py once merged).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import EmployerMember
from core.dispatch import dispatch, dispatch_later
from core.errors import DomainError
from insurance import premiums
from notifications.models import Message
from notifications.services import Outgoing, message_queue_bulk

from . import services
from .models import Claim, Post

logger = logging.getLogger("gigmarket.jobs")

DONE, UNDONE, SKIPPED = "done", "undone", "skipped"
QUEUED_SECONDS = 2  # a queued task not started by then lets the next grab queue another (harmless)


def _queued_key(post_id: int) -> str:
    return f"grab:followon:{post_id}"


def queue(post_id: int) -> None:
    """After a grab's commit: make sure a follow-on task for its post is on its way (module docstring). It
    runs ``GRAB_FOLLOWON_DELAY_SECONDS`` later: the grabs of a rush get the box first (the follow-on is
    most of a rush's CPU) and one task takes them all. A task the broker did not take frees the key, so
    the next grab tries again (the sweep is the last resort)."""
    delay = settings.GRAB_FOLLOWON_DELAY_SECONDS
    if cache.add(_queued_key(post_id), 1, timeout=QUEUED_SECONDS + delay):
        name = "jobs.tasks.grab_followon_post"
        sent = dispatch_later(name, delay, post_id) if delay else dispatch(name, post_id)
        if sent is None:
            cache.delete(_queued_key(post_id))


def queue_on_commit(post_id: int) -> None:
    transaction.on_commit(lambda: queue(post_id))


def complete_post(post_id: int, *, batch: int = 100) -> dict[str, int]:
    """Every pending grab of one post, oldest first, each in its own transaction; counts by outcome."""
    cache.delete(_queued_key(post_id))  # first: a grab committed from now on queues the next task
    counts = {DONE: 0, UNDONE: 0, SKIPPED: 0}
    while True:
        pending = Claim.objects.filter(post_id=post_id, order_pending=True, status=Claim.Status.CONFIRMED)
        ids = list(pending.order_by("pk").values_list("pk", flat=True)[:batch])
        shared = _Shared(post_id)  # the post and its employer's members, read once for the batch
        with premiums.quotes_kept():  # and its fixed insurance terms
            outcomes = [complete(claim_id, shared=shared) for claim_id in ids]
        for outcome in outcomes:
            counts[outcome] += 1
        if all(outcome == SKIPPED for outcome in outcomes):  # nothing left, or the rest is another's
            return counts


class _Shared:
    """What every order of one post's batch reads alike, read at its first use: the post with its trade,
    employer and area (its status, hidden mark and free slots are read again under each order's lock) and
    the employer's members. A batch is seconds of one task; each order still locks and re-checks its post."""

    def __init__(self, post_id: int) -> None:
        self.post_id = post_id
        self._post: Post | None = None
        self._members: list[EmployerMember] | None = None

    def post(self) -> Post:
        if self._post is None:
            self._post = _read_post(self.post_id)
        return self._post

    def members(self, post: Post) -> list[EmployerMember]:
        if self._members is None:
            self._members = _members(post)
        return self._members


def _read_post(post_id: int) -> Post:
    return Post.objects.select_related("trade", "employer", "area").get(pk=post_id)


def _members(post: Post) -> list[EmployerMember]:
    return list(EmployerMember.objects.filter(employer=post.employer).select_related("user").order_by("pk"))


def _lock_post(post_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM jobs_post WHERE id = %s FOR KEY SHARE", [post_id])
    else:  # SQLite locks the whole database for a write anyway
        Post.objects.filter(pk=post_id).first()


def _why_not(post: Post, now: dt.datetime) -> str:
    """Why this post can no longer give a confirmed grab its order ('' when it can)."""
    if post.status == Post.Status.CANCELLED:
        return "岗位已取消"
    live = post.status in (Post.Status.OPEN, Post.Status.FILLED) or (
        post.status == Post.Status.CLOSED and post.hidden_from
    )
    if not live or post.starts_at <= now:
        return "岗位已停止招工"
    return ""


def _params(post: Post) -> dict[str, str]:
    return {
        "post": post.title,
        "start": services._local(post.starts_at),
        "place": f"{post.area.name}{post.address}",
    }


def _make_order(claim: Claim, post: Post, members: list[EmployerMember]) -> None:
    """The part of the old single-transaction 抢单 after the slot: the order and everything it carries.

    Its messages are the same rows ``services._notify`` / ``_notify_employer`` write (in-app for the worker
    and every member, SMS for the worker and the owner), in two statements (``message_queue_bulk``, one
    per channel) instead of a read, two savepoints and an insert per message: the follow-on is most of
    the CPU a rush leaves behind it, and five messages were 40 % of each order's."""
    order = services._open_order(claim, post, actor=claim.worker, fund=True)
    confirmed = Outgoing(
        event_key=f"order:{order.pk}:confirmed", template="claim_confirmed", params=_params(post),
        recipient=claim.worker,
    )  # fmt: skip
    contract = [
        (member, Outgoing(
            event_key=f"order:{order.pk}:contract", template="contract_ready", params={"post": post.title},
            recipient=member.user,
        ))
        for member in members
    ]  # fmt: skip
    message_queue_bulk([confirmed, *(out for _, out in contract)], channel=Message.Channel.INAPP)
    owners = [out for member, out in contract if member.role == EmployerMember.Role.OWNER]
    message_queue_bulk([confirmed, *owners], channel=Message.Channel.SMS)


def _undo(claim: Claim, post: Post, reason: str) -> None:
    Claim.objects.filter(pk=claim.pk).update(
        status=Claim.Status.UNDONE, order_pending=False, reject_reason=reason[:200], decided_at=timezone.now()
    )
    services._free_slot(post.pk)
    services._notify(
        user=claim.worker, template="grab_undone", params={"post": post.title, "reason": reason},
        event=f"claim:{claim.pk}:undone",
    )  # fmt: skip
    logger.warning("grab follow-on undone: claim %s (%s)", claim.pk, reason)


def complete_locked(claim: Claim, *, undo_on_failure: bool = True, shared: _Shared | None = None) -> str:
    """Make the order of a confirmed grab whose row the caller holds locked (inside its transaction).
    ``shared``: the batch's post and members (:class:`_Shared`), for a claim of that post."""
    if shared is None or shared.post_id != claim.post_id:
        shared = _Shared(claim.post_id)
    post = shared.post()
    _lock_post(post.pk)
    post.refresh_from_db(fields=["status", "hidden_from", "slots_left"])
    reason = _why_not(post, timezone.now())
    if not reason:
        try:
            with transaction.atomic():
                _make_order(claim, post, shared.members(post))
        except DomainError as exc:
            if not undo_on_failure:
                raise
            reason = exc.message if getattr(exc, "message", "") else str(exc)
    elif not undo_on_failure:
        raise services._slot_refused(post.pk, full="手慢了，名额已被抢完")
    if reason:
        _undo(claim, post, reason)
        return UNDONE
    Claim.objects.filter(pk=claim.pk).update(order_pending=False)
    claim.order_pending = False
    return DONE


def complete(claim_id: int, *, shared: _Shared | None = None) -> str:
    """The follow-on of one grab, in its own transaction: ``done``, ``undone`` or ``skipped`` (already
    done, or being done by another runner right now). ``shared``: see :func:`complete_locked`."""
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("worker")
            .filter(pk=claim_id, order_pending=True, status=Claim.Status.CONFIRMED)
            .first()
        )
        if claim is None:
            return SKIPPED
        return complete_locked(claim, shared=shared)


def due(*, older_than: dt.timedelta | None = None, limit: int = 500) -> list[int]:
    """Claims still waiting for their follow-on, oldest first (the sweep's work list)."""
    if older_than is None:
        older_than = dt.timedelta(seconds=settings.GRAB_FOLLOWON_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    rows = Claim.objects.filter(order_pending=True, decided_at__lte=cutoff).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def sweep(*, older_than: dt.timedelta | None = None, limit: int = 500) -> dict[str, int]:
    """Run the follow-on of every claim that has waited ``older_than`` (a lost task); counts by outcome."""
    counts = {DONE: 0, UNDONE: 0, SKIPPED: 0}
    for claim_id in due(older_than=older_than, limit=limit):
        counts[complete(claim_id)] += 1
    return counts
