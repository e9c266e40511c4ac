"""抢单, short: one short transaction takes the slot and writes the claim; everything else follows.

A grab used to confirm the order in the request's transaction: the claim, the order and its event, the
contract, the policy, the escrow from the post's hold, four messages — about 30 ms of work per claim on
a CPU-bound box, with the post's slot row and its hold locked for part of it. Now :func:`grab` commits
only what decides who got a slot:

- the checks that need no lock (the post takes claims, the employer is active, the worker's gates);
- the worker's row lock, the duplicate and overlap checks (orders, and grabs whose order is still being
  made), then the claim (``confirmed``, ``order_pending``) and the guarded UPDATE of the slot, last, in
  one statement on PostgreSQL (:func:`_claim_and_take_slot`; on SQLite one after the other);

and answers 「抢到了」. The order, escrow, policy, contract and messages are made seconds after the commit by
:mod:`jobs.followon` in a Celery task (one per post, ``followon.queue_on_commit``; a lost task is found
by the worker's recovery sweep), or the claim is undone with a message and the money untouched.
``GRAB_FOLLOWON_INLINE`` runs the follow-on in the grab's own transaction instead (test suites that look
at the order at once). A grab that finds its post full leaves a mark for the front
(:mod:`jobs.grab_front`), which then answers the rest of the crowd before any of this runs.

Pages, API and the hall's kiosk call :func:`claim`; ``jobs.services.claim_create`` stays the
single-transaction path (seeding, invitations, the employer's side).
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from accounts.models import EmployerMember, User
from core import live, prepared
from core.errors import Conflict, InvalidTransition

from . import followon, grab_front, services
from .models import Block, Claim, Order, OrderEvent, Post

queue_followon = followon.queue_on_commit  # (tests replace it to play a broker that is down)


def claim(*, post: Post, worker: User, note: str = "", seen: int | None = None) -> Claim:
    """抢单 or 报名 from a page, the API or the kiosk: grab posts take the short grab. ``seen``: see
    :func:`grab`."""
    if post.mode == Post.Mode.GRAB:
        return grab(post=post, worker=worker, note=note, seen=seen)
    return services.claim_create(post=post, worker=worker, note=note)


def _check_no_pending_overlap(post: Post, worker: User) -> None:
    """A grab confirmed a moment ago has no order yet: its hours count too (worker row locked)."""
    clash = (
        Claim.objects.filter(
            worker=worker,
            order_pending=True,
            post__starts_at__lt=post.ends_at,
            post__ends_at__gt=post.starts_at,
        )
        .select_related("post")
        .first()
    )
    if clash is not None:
        raise Conflict(
            f"与您已接的订单时间冲突：{clash.post.title}（{services._local(clash.post.starts_at)}）",
            code="overlap",
        )


def _row_checks_sql() -> str:
    """The worker's row lock and every row check in one statement, written out: the ORM took longer to
    build the nested EXISTS (with ``selectors.blocking_orders``' subquery) than PostgreSQL took to run it.
    The orders part is ``blocking_orders`` (active, or disputed while it was active) at overlapping hours;
    tests/jobs/test_grab_checks.py holds the two to the same answers. Table names come from the models. Run
    prepared (core/prepared.py): planning it cost five times what running it did."""
    user, member = User._meta.db_table, EmployerMember._meta.db_table
    block, claim, post = Block._meta.db_table, Claim._meta.db_table, Post._meta.db_table
    order, event = Order._meta.db_table, OrderEvent._meta.db_table
    return f"""
        SELECT
          EXISTS (SELECT 1 FROM {member} m WHERE m.employer_id = %(employer)s AND m.user_id = u.id),
          EXISTS (SELECT 1 FROM {block} b WHERE b.employer_id = %(employer)s AND b.worker_id = u.id),
          EXISTS (SELECT 1 FROM {claim} c WHERE c.post_id = %(post)s AND c.worker_id = u.id),
          EXISTS (
            SELECT 1 FROM {order} o
            WHERE o.worker_id = u.id AND o.starts_at < %(ends)s AND o.ends_at > %(starts)s
              AND (o.status = ANY(%(active)s) OR (o.status = %(disputed)s AND (
                SELECT e.from_status FROM {event} e
                WHERE e.order_id = o.id AND e.to_status = %(disputed)s AND e.from_status <> %(disputed)s
                ORDER BY e.id DESC LIMIT 1
              ) = ANY(%(active)s)))
          ),
          EXISTS (
            SELECT 1 FROM {claim} p JOIN {post} pp ON pp.id = p.post_id
            WHERE p.worker_id = u.id AND p.order_pending AND pp.starts_at < %(ends)s AND pp.ends_at > %(starts)s
          )
        FROM {user} u WHERE u.id = %(worker)s FOR UPDATE OF u
    """  # noqa: S608 (table names from the models' meta, never input)


def _lock_worker_and_check(post: Post, worker: User) -> bool:
    """Lock the worker's row and ask, in that one query, whether any row-based check would refuse: member
    of the employer, blocked by it, already claimed this post, an order or a pending grab at those hours."""
    if connection.vendor != "postgresql":  # SQLite (development): the checks one by one, no row lock
        return True
    params = {
        "employer": post.employer_id, "post": post.pk, "worker": worker.pk, "starts": post.starts_at,
        "ends": post.ends_at, "active": [str(s) for s in Order.ACTIVE], "disputed": Order.Status.DISPUTED.value,
    }  # fmt: skip
    flags = _ROW_CHECKS.fetchone(params)
    return flags is None or any(flags)


_ROW_CHECKS = prepared.Statement(_row_checks_sql())


def _refuse_early(post: Post) -> None:
    if post.status == Post.Status.FILLED:
        raise Conflict("名额已满", code="full")
    if post.status == Post.Status.OPEN and post.slots_left <= 0:
        raise Conflict("手慢了，名额已被抢完", code="full")
    if post.status == Post.Status.CANCELLED:
        raise InvalidTransition("岗位已取消", code="post_cancelled")
    if post.status != Post.Status.OPEN or post.starts_at <= timezone.now():
        raise InvalidTransition("该岗位已停止招工")


def _claim_and_slot_sql() -> str:
    """The claim and the guarded slot UPDATE (``services._take_slot``'s) as one statement: the claim is
    written and the post's row — the one row every grab of a rush competes for — locked in the same
    statement, the last before the commit. Answers (claim id, the post's new status or NULL: no slot)."""
    claim = Claim._meta.db_table
    return f"""
        WITH c AS (
          INSERT INTO {claim} (post_id, worker_id, status, note, created_at, decided_at, reject_reason, order_pending)
          VALUES (%(post)s, %(worker)s, %(confirmed)s, %(note)s, %(now)s, %(now)s, '', TRUE) RETURNING id
        ), s AS ({services.TAKE_SLOT})
        SELECT c.id, s.status FROM c LEFT JOIN s ON TRUE
    """  # noqa: S608 (table names from the models' meta, never input)


_CLAIM_AND_SLOT = prepared.Statement(_claim_and_slot_sql())


def _claim_and_take_slot(post: Post, worker: User, note: str) -> tuple[Claim, bool | str]:
    """PostgreSQL: the claim and the slot in one prepared statement (one round trip, no QuerySet to
    compile: a fifth of a winner's Python went to ``Claim.objects.create``). The claim is the instance
    ``create`` would have given, and ``post_save`` is sent for it as ``create`` would."""
    now = timezone.now()
    claim_id, status = _CLAIM_AND_SLOT.fetchone({
        **services.take_slot_params(post.pk), "worker": worker.pk, "confirmed": Claim.Status.CONFIRMED.value,
        "note": note, "now": now,
    })  # fmt: skip
    claim = Claim(
        id=claim_id, post=post, worker=worker, status=Claim.Status.CONFIRMED, note=note, created_at=now,
        decided_at=now, reject_reason="", order_pending=True,
    )  # fmt: skip
    claim._state.adding, claim._state.db = False, connection.alias
    post_save.send(
        sender=Claim, instance=claim, created=True, update_fields=None, raw=False, using=connection.alias
    )
    if status is None:
        return claim, False
    live.slots_changed_on_commit(Post, post.pk)  # 还剩 N 人 on open pages (docs/live.md)
    return claim, services.FILLED_NOW if status == Post.Status.FILLED else True


@transaction.atomic
def grab(*, post: Post, worker: User, note: str = "", seen: int | None = None) -> Claim:
    """The short 抢单: the claim and the slot in one transaction; the order follows (module docstring).

    ``seen``: the front's generation of the post, read by the caller *before* it read ``post`` (with its
    trade's certificate type, employer and area) — the API's view, which reads the post anyway for its
    404: the post is then not read a second time. Without it the generation and the post are read here."""
    if seen is None:
        seen = grab_front.generation(post.pk)  # before the post is read: a mark written below can be disowned
        post = Post.objects.select_related("trade__certificate_type", "employer", "area").get(pk=post.pk)
    if post.mode != Post.Mode.GRAB:
        raise InvalidTransition("该岗位需要报名，等雇主确认")
    # A full post is refused before any lock; the mark lets the front refuse the rest (jobs/grab_front.py).
    if post.status == Post.Status.FILLED:
        grab_front.mark_full(post.pk, seen)
    _refuse_early(post)
    services._employer_active(post)
    # Lock order (jobs/services.py): the worker first (overlap), the post only through the guarded UPDATE.
    # The worker's row is locked and every check asked in the same query; only a worker some check
    # refuses goes through them one by one, for the message of the first that refuses (as before).
    services._check_worker_gates(post, worker, rows=False)
    if _lock_worker_and_check(post, worker):
        services._check_worker_gates(post, worker)
        if Claim.objects.filter(post=post, worker=worker).exists():
            raise Conflict("您已经接过/报过这个岗位", code="duplicate")
        services._check_no_overlap(post, worker)
        _check_no_pending_overlap(post, worker)
    note = (note or "").strip()[:200]
    try:
        if connection.vendor == "postgresql":
            claim, taken = _claim_and_take_slot(post, worker, note)
        else:  # SQLite (development): no data-modifying WITH; the claim, then the guarded UPDATE
            claim = Claim.objects.create(
                post=post, worker=worker, status=Claim.Status.CONFIRMED, note=note, decided_at=timezone.now(),
                order_pending=True,
            )  # fmt: skip
            taken = services._take_slot(post.pk)
    except IntegrityError as exc:  # a parallel duplicate: grab's own atomic rolls back the rest
        raise Conflict("您已经接过/报过这个岗位", code="duplicate") from exc
    if not taken:
        refused = services._slot_refused(post.pk, full="手慢了，名额已被抢完")
        if refused.code == "full":
            grab_front.mark_full(post.pk, seen)
        raise refused
    if taken == services.FILLED_NOW:
        grab_front.mark_full_on_commit(post.pk, seen)
    if settings.GRAB_FOLLOWON_INLINE:
        claim.worker = worker
        followon.complete_locked(claim, undo_on_failure=False)
    else:
        queue_followon(post.pk)
    return claim
