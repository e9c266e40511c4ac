"""Delivering the outbox: exactly once per (event, recipient), even when a worker dies mid-send.

1. Claim: in its own committed transaction, due PENDING rows are locked (``SKIP LOCKED``: workers never
   wait on each other) and set to SENDING with a fresh ``claim_token``, a lease, and the ``out_id`` the
   provider will be given. Nothing is sent while a row is only locked.
2. Send: one provider call per group (same template, distinct numbers: ``SendBatchSms``; a single row:
   ``SendSms``), after the shared rate cap allows it and only while the lease still has room for the call.
3. Record: compare-and-swap on (pk, claim_token, SENDING) to SENT / back to PENDING with a back-off / FAILED.
   A transport error leaves the row SENDING until its lease ends: we cannot know whether it arrived.
4. Reconcile (``sweep``): a row SENDING past its lease (the worker was killed, or the answer was lost) is
   looked up at the provider by ``out_id``: received → SENT, never resent; not received → PENDING again.
5. Secrets (one-time codes, see ``models.Message.secret``) live only as long as they can be of use: wiped
   when the row is SENT or FAILED; a row whose ``secret_until`` passed is never sent, and the sweep gives it
   up and wipes its secret.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
import uuid
from collections import defaultdict

import requests
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from core.dispatch import dispatch_on_commit

from . import ratelimit
from .backends import GIVE_UP, RETRY, SENT, UNKNOWN, get_backend
from .models import Message
from .quiet_hours import quiet_hours_end

logger = logging.getLogger("gigmarket.sms")

# A call is started only if the lease outlives it by this margin (seconds) on top of the HTTP timeout.
LEASE_MARGIN = 2.0


def _due(now: dt.datetime, channel: str = Message.Channel.SMS):
    due = (
        Message.objects.filter(channel=channel, status=Message.Status.PENDING)
        .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
        .exclude(secret_until__lte=now)  # a code past its life: the sweep gives it up
    )
    if quiet_hours_end(at=now) is not None:
        # Whatever made a marketing row due (a retry's back-off, a late sweep), never in quiet hours.
        due = due.exclude(marketing=True)
    return due


def _groups(rows: list[Message], max_batch: int) -> list[list[Message]]:
    """Split claimed rows into provider calls: one template per call, each number at most once. A one-time
    code goes alone (``SendSms``): the provider delays batches and asks for codes one by one."""
    by_template: dict[str, list[Message]] = defaultdict(list)
    groups: list[list[Message]] = []
    for row in rows:
        if row.secret_until is not None:
            groups.append([row])
        else:
            by_template[row.template].append(row)
    for same in by_template.values():
        open_groups: list[tuple[set[str], list[Message]]] = []
        for row in same:
            for phones, group in open_groups:
                if row.phone not in phones and len(group) < max_batch:
                    phones.add(row.phone)
                    group.append(row)
                    break
            else:
                open_groups.append(({row.phone}, [row]))
        groups.extend(group for _, group in open_groups)
    return groups


def claim(
    *,
    first_id: int | None = None,
    limit: int,
    max_batch: int,
    backend_name: str,
    first_ids: list[int] | None = None,
    codes: bool | None = None,
):
    """Claim up to ``limit`` due SMS rows (``first_id``/``first_ids`` first, if still due) and commit the
    claim. ``codes``: True takes only one-time codes, False none (they have their own queue), None any.

    Returns (token, groups): each group is one provider call, its rows already carrying their out_id."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        due = _due(now).select_for_update(skip_locked=True)
        if codes is not None:
            due = due.filter(secret_until__isnull=not codes)
        ids: list[int] = []
        first = [*([first_id] if first_id is not None else []), *(first_ids or [])]
        if first:
            ids = list(due.filter(pk__in=first).order_by("pk").values_list("pk", flat=True))
        if limit > len(ids):
            ids += list(
                due.exclude(pk__in=ids).order_by("pk").values_list("pk", flat=True)[: limit - len(ids)]
            )
        if not ids:
            return token, []
        Message.objects.filter(pk__in=ids, status=Message.Status.PENDING).update(
            status=Message.Status.SENDING,
            claim_token=token,
            lease_until=now + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            backend=backend_name,
            out_id=Concat(Value("m"), Cast("pk", output_field=CharField())),
        )
        # By primary key: claim_token has no index, and the outbox keeps every message ever sent.
        rows = list(Message.objects.filter(pk__in=ids, claim_token=token).order_by("pk"))
        groups = _groups(rows, max_batch)
        for index, group in enumerate(groups):
            if len(group) > 1:
                out_id = f"b{token}{index}"
                Message.objects.filter(pk__in=[r.pk for r in group]).update(out_id=out_id)
                for row in group:
                    row.out_id = out_id
    return token, groups


def _record(*, token: str, rows: list[Message], outcomes) -> dict[str, int]:
    """Write the outcomes of provider calls: the sent rows with one UPDATE (each row's receipt number by a
    CASE), the others one by one (rare), in one transaction. On PostgreSQL its commit is asynchronous: if
    the database crashed before it reached the disk, the rows would still be SENDING under their lease, and
    the sweep asks the provider before any resend — the outcome is never lost, only learnt later."""
    with transaction.atomic():
        if connections[Message.objects.db].vendor == "postgresql":
            with connections[Message.objects.db].cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return _record_rows(token=token, rows=rows, outcomes=outcomes)


def _record_rows(*, token: str, rows: list[Message], outcomes) -> dict[str, int]:
    now = timezone.now()
    counts: dict[str, int] = defaultdict(int)
    mine = Message.objects.filter(claim_token=token, status=Message.Status.SENDING)
    sent = {r.pk: o.provider_id[:64] for r, o in zip(rows, outcomes, strict=True) if o.result == SENT}
    if sent:
        ids = set(sent.values())
        provider_id = (
            Value(next(iter(ids)))
            if len(ids) == 1
            else Case(*(When(pk=pk, then=Value(pid)) for pk, pid in sent.items()), output_field=CharField())
        )
        changed = mine.filter(pk__in=list(sent)).update(
            status=Message.Status.SENT,
            sent_at=now,
            provider_id=provider_id,
            lease_until=None,
            last_error="",
            secret="",
        )
        counts[SENT] += changed
        if changed != len(sent):
            # The lease ran out during the call and the sweeper took the row over: only possible if the
            # lease is shorter than a call. Loud, because the row may now be sent twice.
            logger.error("SMS lease lost during a send (token %s): raise NOTIFY_LEASE_SECONDS", token)
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.result == SENT:
            continue
        counts[outcome.result] += 1
        error = outcome.error[:300]
        if outcome.result == UNKNOWN:
            # Perhaps it arrived: only the provider can say. The sweeper asks it once the lease is over
            # (not before: the provider may still be working on the request we stopped waiting for).
            mine.filter(pk=row.pk).update(last_error=error)
        elif outcome.result == RETRY and row.attempts < settings.NOTIFY_MAX_ATTEMPTS:
            backoff = min(3600, settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1))
            mine.filter(pk=row.pk).update(
                status=Message.Status.PENDING,
                send_after=now + dt.timedelta(seconds=backoff),
                lease_until=None,
                last_error=error,
            )
        else:
            mine.filter(pk=row.pk).update(
                status=Message.Status.FAILED, lease_until=None, last_error=error, secret=""
            )
    return counts


def _release(*, token: str, rows: list[Message]) -> None:
    """Unsent rows go back to PENDING (the lease would not cover the call)."""
    Message.objects.filter(
        claim_token=token, status=Message.Status.SENDING, pk__in=[r.pk for r in rows]
    ).update(status=Message.Status.PENDING, lease_until=None, attempts=F("attempts") - 1)


class _Recorder:
    """One sending thread's outcomes, written in batches (``RECORD_ROWS`` rows or ``RECORD_SECONDS``,
    whichever first, and before the thread ends or releases rows): one transaction for many calls instead of
    one each. Batching changes no guarantee: a row sent and not yet recorded is SENDING under its lease, as
    during the call itself; a call only starts with the lease outliving it by a margin, and the batch is
    written right after such a call at the latest."""

    def __init__(self, token: str, counts):
        self.token, self.counts = token, counts
        self.rows: list[Message] = []
        self.outcomes: list = []
        self.since = 0.0

    def add(self, rows: list[Message], outcomes) -> None:
        if not self.rows:
            self.since = time.monotonic()
        self.rows += rows
        self.outcomes += outcomes
        if len(self.rows) >= RECORD_ROWS or time.monotonic() - self.since >= RECORD_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, outcomes = self.rows, self.outcomes
        self.rows, self.outcomes = [], []
        for key, value in _record(token=self.token, rows=rows, outcomes=outcomes).items():
            self.counts[key] += value


RECORD_ROWS = 100
RECORD_SECONDS = 0.5


def _send_group(
    *, backend, token: str, group: list[Message], counts, recorder: _Recorder | None = None
) -> None:
    ratelimit.acquire(len(group))
    lease_until = group[0].lease_until or timezone.now()
    if (lease_until - timezone.now()).total_seconds() < settings.SMS_HTTP_TIMEOUT + LEASE_MARGIN:
        if recorder is not None:
            recorder.flush()
        _release(token=token, rows=group)
        counts["released"] += len(group)
        return
    outcomes = backend.send(group, group[0].out_id)
    if len(group) > 1 and outcomes[0].result == GIVE_UP:
        # One bad number refuses the whole batch: nothing in it was accepted, so each row goes again on
        # its own under its own out_id, and only the faulty ones fail.
        for row in group:
            row.out_id = f"m{row.pk}"
            Message.objects.filter(pk=row.pk, claim_token=token).update(out_id=row.out_id)
            _send_group(backend=backend, token=token, group=[row], counts=counts, recorder=recorder)
        return
    if recorder is not None:
        recorder.add(group, outcomes)
        return
    for key, value in _record(token=token, rows=group, outcomes=outcomes).items():
        counts[key] += value


def deliver(
    *,
    first_id: int | None = None,
    limit: int | None = None,
    first_ids: list[int] | None = None,
    codes: bool | None = None,
) -> dict[str, int]:
    """Claim due SMS rows (``first_id``/``first_ids`` first; ``codes`` as in :func:`claim`) and send them.
    Returns counts by outcome."""
    backend = get_backend()
    limit = limit or settings.NOTIFY_BATCH_SIZE
    token, groups = claim(
        first_id=first_id,
        first_ids=first_ids,
        codes=codes,
        limit=limit,
        max_batch=backend.max_batch,
        backend_name=backend.name,
    )
    threads = min(settings.NOTIFY_SEND_THREADS, len(groups)) if backend.remote else 1
    if threads <= 1:
        counts: dict[str, int] = defaultdict(int)
        recorder = _Recorder(token, counts)
        try:
            for group in groups:
                _send_group(backend=backend, token=token, group=group, counts=counts, recorder=recorder)
        finally:
            recorder.flush()
        return dict(counts)
    # Calls that cannot be batched (one number several times, many templates) wait on the provider's
    # network round trip: several at once. Each thread has its own database connection, closed at its end.
    results: list[dict[str, int]] = []

    def run(share: list[list[Message]]) -> None:
        mine: dict[str, int] = defaultdict(int)
        recorder = _Recorder(token, mine)
        try:
            for group in share:
                _send_group(backend=backend, token=token, group=group, counts=mine, recorder=recorder)
        finally:
            try:
                recorder.flush()
            finally:
                results.append(mine)
                connections.close_all()

    workers = [threading.Thread(target=run, args=(groups[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    total: dict[str, int] = defaultdict(int)
    for part in results:
        for key, value in part.items():
            total[key] += value
    return dict(total)


def deliver_listed(message_ids: list[int]) -> dict[str, int]:
    """Send these (non-code) rows, ``NOTIFY_BATCH_SIZE`` at a time: each slice claimed (the rows still
    due; others already taken are skipped), sent and recorded before the next, so a lease covers only the
    calls of one slice however long the list. Returns counts by outcome."""
    size = settings.NOTIFY_BATCH_SIZE
    total: dict[str, int] = defaultdict(int)
    for start in range(0, len(message_ids), size):
        ids = message_ids[start : start + size]
        for key, value in deliver(first_ids=ids, limit=len(ids), codes=False).items():
            total[key] += value
    return dict(total)


def reconcile(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Rows left SENDING past their lease: ask the provider before sending anything again."""
    now = now or timezone.now()
    backend = get_backend()
    counts: dict[str, int] = defaultdict(int)
    stale = Message.objects.filter(
        channel=Message.Channel.SMS, status=Message.Status.SENDING, lease_until__lt=now
    ).order_by("lease_until")[:limit]
    for row in stale:
        try:
            received = backend.query(row)
        except requests.RequestException as exc:
            logger.warning("SMS reconcile: provider query failed (%s); will ask again", type(exc).__name__)
            counts["unknown"] += 1
            continue
        mine = Message.objects.filter(pk=row.pk, claim_token=row.claim_token, status=Message.Status.SENDING)
        if received:
            counts["confirmed"] += mine.update(
                status=Message.Status.SENT,
                sent_at=now,
                lease_until=None,
                last_error="已向服务商核实：已收到",
                secret="",
            )
        else:
            # Due at once: the sweep below queues its delivery in the same run.
            counts["requeued"] += mine.update(status=Message.Status.PENDING, lease_until=None, send_after=now)
    return dict(counts)


def secrets_expire(*, now: dt.datetime | None = None) -> int:
    """Codes past their life: an unsent one is given up (it could no longer be used), and every expired
    secret is wiped, whatever the row's state. Returns how many secrets were wiped."""
    now = now or timezone.now()
    Message.objects.filter(status=Message.Status.PENDING, secret_until__lte=now).update(
        status=Message.Status.FAILED, last_error="验证码已过期，未发送", secret=""
    )
    return Message.objects.filter(secret_until__lte=now).exclude(secret="").update(secret="")


def sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic safety net: reconcile stale sends, wipe codes past their life, release in-app messages
    whose quiet hours ended, and queue delivery for SMS rows that are due but were never picked up (lost task, broker restart)."""
    now = now or timezone.now()
    counts = reconcile(now=now)
    counts["secrets_wiped"] = secrets_expire(now=now)
    counts["inapp_released"] = (
        _due(now, Message.Channel.INAPP)
        .filter(send_after__isnull=False)
        .update(status=Message.Status.SENT, sent_at=now)
    )
    stale_before = now - dt.timedelta(seconds=settings.NOTIFY_STALE_SECONDS)
    due = _due(now).filter(Q(send_after__isnull=False) | Q(created_at__lt=stale_before)).count()
    tasks = min(50, math.ceil(due / settings.NOTIFY_BATCH_SIZE))
    for _ in range(tasks):
        dispatch_on_commit("notifications.tasks.deliver_due")
    counts["due"] = due
    counts["tasks"] = tasks
    return counts
