"""The short 抢单 (jobs/grabbing.py) and its follow-on (jobs/followon.py) on committed transactions.

The grab commits the slot and the claim only; the order, escrow, policy, contract and messages follow.
Under real concurrency exactly K of N grabs confirm and each ends with its order, escrow and policy; the
follow-on run twice makes one order; one that cannot make the order undoes the claim with a message and
the money where it was; a claim whose task was never queued (broker down) is found by the sweep.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.test import override_settings

from insurance.models import Policy
from jobs import followon, grabbing, money, services, tasks
from jobs.models import Claim, Order, Post
from jobs.reconcile import reconcile_orders
from notifications.models import Message
from tests.factories import EmployerFactory, PostFactory, TradeFactory
from tests.jobs.test_claim_concurrency import _race, _verified_workers
from wallet import ledger
from wallet.models import Account, LedgerTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEFERRED = override_settings(GRAB_FOLLOWON_INLINE=False)


@pytest.fixture
def broker_down(monkeypatch):
    """The follow-on task is never queued, as when the broker is down (ResilientTask returns None)."""
    monkeypatch.setattr(grabbing, "queue_followon", lambda *args, **kwargs: None)


@pytest.fixture
def trade(db):
    return TradeFactory(name="搬运", category="logistics", risk_class=4)


def _posts(trade, count: int, slots: int, **kwargs) -> list[Post]:
    employer = EmployerFactory(name="青溪市快运物流有限公司")
    return [
        PostFactory(
            employer=employer,
            trade=trade,
            slots=slots,
            mode=Post.Mode.GRAB,
            insurance_required=True,
            title=f"仓库装卸{n}",
            **kwargs,
        )
        for n in range(count)
    ]


def _money(post: Post) -> dict[str, int]:
    employer = Account.objects.get(kind=Account.Kind.EMPLOYER, employer=post.employer_id)
    return {"account": employer.balance_fen, "hold": ledger.post_hold(post).balance_fen}


def _payable() -> int:
    """Premiums owed to the insurer, however insurance payable is split into accounts."""
    return sum(
        Account.objects.filter(kind=Account.Kind.INSURANCE_PAYABLE).values_list("balance_fen", flat=True)
    )


def _has_its_order(claim: Claim) -> None:
    order = Order.objects.get(claim=claim)
    pay, premium = money.per_order_cost(order.post)
    assert ledger.order_escrow(order).balance_fen == pay
    assert Policy.objects.filter(order=order).exists() and premium > 0
    assert hasattr(order, "contract")
    assert Message.objects.filter(
        event_key=f"order:{order.pk}:confirmed", template="claim_confirmed"
    ).exists()


@DEFERRED
def test_parallel_short_grabs_confirm_exactly_the_slots_and_each_gets_its_order(trade):
    """120 workers at 3 posts × 4 slots, 30 connections racing each round. The follow-on runs right after
    each grab's commit (the eager Celery of the test settings)."""
    posts = _posts(trade, 3, 4)
    workers = _verified_workers(120, prefix="1470")
    calls = [lambda w=w, p=posts[i % 3]: grabbing.claim(post=p, worker=w) for i, w in enumerate(workers)]
    outcomes = _race(calls, threads=30)

    assert Counter(outcomes) == {"ok": 12, "full": 108}, Counter(outcomes)
    for post in posts:
        post.refresh_from_db()
        assert post.slots_left == 0 and post.status == Post.Status.FILLED
        claims = Claim.objects.filter(post=post, status=Claim.Status.CONFIRMED)
        assert claims.count() == 4 and not claims.filter(order_pending=True).exists()
        for claim in claims:
            _has_its_order(claim)
        assert ledger.post_hold(post).balance_fen == 0
    assert reconcile_orders() == []


@DEFERRED
def test_a_grab_answers_before_its_order_exists_and_the_sweep_makes_it(trade, broker_down):
    (post,) = _posts(trade, 1, 2)
    worker = _verified_workers(1, prefix="1471")[0]
    before = _money(post)

    claim = grabbing.claim(post=post, worker=worker)

    claim.refresh_from_db()
    assert claim.status == Claim.Status.CONFIRMED and claim.order_pending
    assert not Order.objects.filter(claim=claim).exists()
    assert _money(post) == before  # the grab moved no money
    post.refresh_from_db()
    assert post.slots_left == 1
    assert reconcile_orders() == []  # a fresh pending claim is not a breach…
    with override_settings(GRAB_FOLLOWON_ALERT_SECONDS=0):
        assert [p.check for p in reconcile_orders()] == ["grab_followon_done"]  # …a forgotten one is

    with override_settings(GRAB_FOLLOWON_SWEEP_AFTER_SECONDS=0):
        assert tasks.grab_followon_sweep() == {"done": 1, "undone": 0, "skipped": 0}
    claim.refresh_from_db()
    assert not claim.order_pending
    _has_its_order(claim)
    with override_settings(GRAB_FOLLOWON_ALERT_SECONDS=0):
        assert reconcile_orders() == []


@DEFERRED
def test_the_follow_on_run_twice_or_in_parallel_makes_one_order(trade, broker_down):
    (post,) = _posts(trade, 1, 3)
    first, second = _verified_workers(2, prefix="1472")
    claim = grabbing.claim(post=post, worker=first)
    assert followon.complete(claim.pk) == "done"
    assert followon.complete(claim.pk) == "skipped"
    assert Order.objects.filter(claim=claim).count() == 1
    assert (
        LedgerTransaction.objects.filter(idempotency_key__startswith="order:", order__claim=claim).count()
        == 1
    )

    other = grabbing.claim(post=post, worker=second)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def run():
        from django.db import connection

        try:
            barrier.wait(10)
            results.append(followon.complete(other.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results).count("done") == 1, results
    assert Order.objects.filter(claim=other).count() == 1
    fund = LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.ESCROW_FUND, order__claim=other)
    assert fund.count() == 1
    assert reconcile_orders() == []


@DEFERRED
def test_a_follow_on_that_finds_the_hold_short_undoes_the_claim_with_money_intact(trade, broker_down):
    (post,) = _posts(trade, 1, 2)
    worker = _verified_workers(1, prefix="1473")[0]
    claim = grabbing.claim(post=post, worker=worker)
    # The hold is short (books gone wrong): its money was moved back to the employer's account.
    hold = ledger.post_hold(post)
    employer_acct = ledger.employer_account(post.employer)
    ledger.transfer(
        key="test:drain", kind=LedgerTransaction.Kind.ADJUSTMENT,
        legs=[(hold, -hold.balance_fen), (employer_acct, hold.balance_fen)],
    )  # fmt: skip
    before = _money(post)
    payable = _payable()

    assert followon.complete(claim.pk) == "undone"

    claim.refresh_from_db()
    assert claim.status == Claim.Status.UNDONE and not claim.order_pending
    assert "托管资金不足" in claim.reject_reason
    assert not Order.objects.filter(claim=claim).exists()
    assert _money(post) == before and _payable() == payable
    post.refresh_from_db()
    assert post.slots_left == 2  # the slot is free again
    sms = Message.objects.get(event_key=f"claim:{claim.pk}:undone", channel="sms")
    assert sms.template == "grab_undone"


@DEFERRED
def test_a_post_cancelled_before_the_follow_on_undoes_the_claim(trade, broker_down):
    (post,) = _posts(trade, 1, 2)
    worker = _verified_workers(1, prefix="1474")[0]
    claim = grabbing.claim(post=post, worker=worker)
    services.post_cancel(post=post, actor=post.created_by, reason="工程延期")
    before = _money(post)

    with override_settings(GRAB_FOLLOWON_SWEEP_AFTER_SECONDS=0):
        assert followon.sweep() == {"done": 0, "undone": 1, "skipped": 0}

    claim.refresh_from_db()
    assert claim.status == Claim.Status.UNDONE and claim.reject_reason == "岗位已取消"
    assert _money(post) == before == {"account": before["account"], "hold": 0}
    with override_settings(GRAB_FOLLOWON_ALERT_SECONDS=0):
        assert reconcile_orders() == []


@DEFERRED
def test_a_pending_grab_blocks_the_workers_overlapping_grab(trade, broker_down):
    first, second = _posts(trade, 2, 2)
    worker = _verified_workers(1, prefix="1475")[0]
    grabbing.claim(post=first, worker=worker)
    outcomes = _race([lambda: grabbing.claim(post=second, worker=worker)], threads=1)
    assert outcomes == ["overlap"]


@DEFERRED
def test_a_posts_batch_reads_the_post_its_members_and_its_terms_once(trade, broker_down):
    """complete_post makes every order as complete() would, reading what the orders share once: what a
    batch of five orders reads more than a batch of one is the orders' own rows, not the post's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def batch(post, workers) -> list[str]:
        for worker in workers:
            grabbing.claim(post=post, worker=worker)
        with CaptureQueriesContext(connection) as queries:
            assert followon.complete_post(post.pk)["done"] == len(workers)
        return [q["sql"] for q in queries.captured_queries]

    one, five = _posts(trade, 2, 5)
    workers = _verified_workers(6, prefix="1473")
    alone, together = batch(one, workers[:1]), batch(five, workers[1:])

    def reads(sql: list[str], table: str) -> int:
        return sum(1 for s in sql if s.startswith("SELECT") and f'FROM "{table}"' in s)

    for table in ("insurance_postquote", "accounts_employermember"):
        assert reads(alone, table) == reads(together, table) == 1, table
    joined = [[s for s in sql if 'FROM "jobs_post" INNER JOIN' in s] for sql in (alone, together)]
    assert len(joined[0]) == len(joined[1]) == 1  # the post with its trade, employer and area
    # Each order still reads its post's status under its own lock.
    assert reads(together, "jobs_post") - reads(alone, "jobs_post") == 4
    for claim in Claim.objects.filter(post__in=(one, five)):
        assert not claim.order_pending
        _has_its_order(claim)
    assert reconcile_orders() == []


def test_fixed_terms_are_read_once_inside_quotes_kept_and_every_time_outside(trade):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from insurance import premiums

    (post,) = _posts(trade, 1, 2)
    fixed = premiums.post_quote(post=post)

    def selects(count: int, kept: bool) -> int:
        with CaptureQueriesContext(connection) as queries:
            if kept:
                with premiums.quotes_kept():
                    quotes = [premiums.post_quote(post=post) for _ in range(count)]
            else:
                quotes = [premiums.post_quote(post=post) for _ in range(count)]
        assert all(q.pk == fixed.pk for q in quotes)
        return sum(1 for q in queries.captured_queries if "insurance_postquote" in q["sql"])

    assert selects(3, kept=True) == 1
    assert selects(3, kept=False) == 3


@DEFERRED
def test_a_grab_closes_its_recommendation_funnel_with_its_order_not_in_the_rush(trade, broker_down):
    """The funnel's two UPDATEs (recommendation claimed, invitation accepted) are not in the grab's short
    transaction: they come with the order the follow-on makes; an 报名 closes it at once, as before."""
    from django.utils import timezone

    from matching.models import Channel, Recommendation

    grab_post, apply_post = _posts(trade, 2, 2)
    Post.objects.filter(pk=apply_post.pk).update(mode=Post.Mode.APPLY)
    apply_post.refresh_from_db()
    worker, other = _verified_workers(2, prefix="1474")
    sent = timezone.now()
    recs = [
        Recommendation.objects.create(
            post=post, worker=w, channel=Channel.SMS, score=0.9, reason="就在附近", sent_at=sent
        )
        for post, w in ((grab_post, worker), (apply_post, other))
    ]
    claim = grabbing.claim(post=grab_post, worker=worker)
    recs[0].refresh_from_db()
    assert claim.order_pending and recs[0].claimed_at is None
    assert followon.complete(claim.pk) == "done"
    recs[0].refresh_from_db()
    assert recs[0].claimed_at is not None
    grabbing.claim(post=apply_post, worker=other)
    recs[1].refresh_from_db()
    assert recs[1].claimed_at is not None
