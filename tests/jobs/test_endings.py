"""Every way an order can end, and what each side gets (the table in docs/money.md, one row per test).

Each row starts from the same place: an insured 2-slot post at 200 元/天 (premium 5 元 an order, so each
slot sets aside 205 元), one worker's order confirmed on it. Then the row's steps run on a moving clock, and
the row says what the worker's wallet holds, what insurance payable keeps for the order, how the employer's
account and the post's hold moved, and the order's final status. After every row the rules-aware
reconciliation (jobs/reconcile.py) passes, and the money is conserved: what the employer's side lost is
exactly what the worker and the insurer got.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

import pytest
import time_machine
from django.db.models import Sum

from core.errors import InvalidTransition
from insurance import services as insurance
from jobs import money, services
from jobs.models import Order
from jobs.reconcile import reconcile_orders
from tests.factories import EmployerFactory, PostFactory
from wallet import ledger
from wallet.models import Posting

pytestmark = pytest.mark.django_db

P, R = 20000, 500  # pay of one order (1 day at 200 元), premium of one order (risk class 3)
SLOT = P + R
C = 4000  # a late cancellation by the employer: 20% of the expected pay (at least 20 元)
MIN = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


class Scene:
    """One order on its post, and the moves a row makes, each at its own moment."""

    def __init__(self, post, order, worker, boss):
        self.post, self.order, self.worker, self.boss = post, order, worker, boss
        self.start = order.starts_at

    def at(self, moment):
        return time_machine.travel(moment, tick=False)

    def fresh(self) -> Order:
        return Order.objects.select_related("post").get(pk=self.order.pk)

    def work(self, quantity="1"):
        with self.at(self.start):
            services.order_check_in(order=self.order, worker=self.worker)
        with self.at(self.order.ends_at):
            services.order_check_out(order=self.order, worker=self.worker, quantity=quantity)

    def confirm(self, quantity):
        with self.at(self.order.ends_at + H):
            services.order_confirm_completion(order=self.order, actor=self.boss, quantity=quantity)

    def auto(self):
        with self.at(self.order.ends_at + 25 * H):
            services.orders_auto_approve()

    def worker_cancels(self, moment):
        with self.at(moment):
            services.order_cancel_by_worker(order=self.order, worker=self.worker)

    def employer_cancels(self, moment):
        with self.at(moment):
            services.order_cancel_by_employer(order=self.order, actor=self.boss, reason="不用了")

    def post_cancel(self, moment):
        with self.at(moment):
            services.post_cancel(post=self.post, actor=self.boss, reason="项目取消")

    def sweep(self, moment):
        with self.at(moment):
            services.posts_expire()
            services.orders_mark_no_show()
            services.orders_auto_approve()

    def dispute(self, moment=None):
        with self.at(moment or self.order.ends_at + H):
            services.order_mark_disputed(order=self.order, actor=self.worker, case_id=7)

    def end(self, outcome, moment=None, amount=None):
        with self.at(moment or self.order.ends_at + 2 * H):
            order = services.order_dispute_end(
                order=self.order, actor=None, case_id=7, outcome=outcome, amount_fen=amount
            )
            if outcome == "agreed":
                money.order_settle_by_agreement(order=order, to_worker_fen=amount, key="case:7:agreement:1")


@dataclass(frozen=True)
class Row:
    ending: str  # the order's ending, as docs/money.md names it
    post: str  # the post's state meanwhile
    dispute: str  # the case's outcome, "—" without one
    steps: Callable[[Scene], object]
    status: str
    worker: int  # the worker's wallet
    insurer: int  # kept in insurance payable for this order
    account: int  # the employer's account moved by
    hold: int  # the post's hold moved by
    post_kwargs: dict | None = None


def _refused_then_no_show(s: Scene):
    with pytest.raises(InvalidTransition):
        s.employer_cancels(s.start + 3 * H)
    s.sweep(s.start + 3 * H)


def _clash(s: Scene):
    """The worker holds another order for the same hours (taken before the overlap check counted
    disputed orders): the case's end finds it."""
    other = PostFactory(employer=EmployerFactory(), starts_at=s.start, slots=1)
    s.dispute(s.start - 30 * H)
    with mock.patch("jobs.services._check_no_overlap"):  # let the claim through, as it once went
        services.claim_create(post=other, worker=s.worker)
    s.end("declined", s.start - 29 * H)


ROWS = [
    Row("completed: employer confirms the escrowed quantity", "open", "—",
        lambda s: (s.work(), s.confirm("1")), "completed", P, R, 0, 0),
    Row("completed: employer confirms more than the escrow", "open", "—",
        lambda s: (s.work(), s.confirm("1.5")), "completed", 30000, R, -10000, 0),
    Row("completed: employer confirms less", "open", "—",
        lambda s: (s.work("1"), s.confirm("0.5")), "completed", 10000, R, 10000, 0),
    Row("completed: auto-approved", "open", "—",
        lambda s: (s.work("1"), s.auto()), "completed", P, R, 0, 0),
    Row("completed: auto-approved, more reported than escrowed", "open", "—",
        lambda s: (s.work("2"), s.auto()), "completed", P, R, 0, 0, {"hours": 33}),
    Row("completed: the post expired meanwhile", "expired", "—",
        lambda s: (s.sweep(s.start + MIN), s.work(), s.confirm("1")), "completed", P, R, SLOT, -SLOT),
    Row("cancelled by the worker, free", "open", "—",
        lambda s: s.worker_cancels(s.start - 30 * H), "cancelled", 0, 0, 0, SLOT),
    Row("cancelled by the worker, late", "open", "—",
        lambda s: s.worker_cancels(s.start - 2 * H), "cancelled", 0, 0, 0, SLOT),
    Row("cancelled by the worker, free", "hidden (reported)", "—",
        lambda s: (services.post_hide_for_review(post=s.post, actor=None), s.worker_cancels(s.start - 30 * H)),
        "cancelled", 0, 0, 0, SLOT),
    Row("cancelled by the worker, free", "closed by the employer", "—",
        lambda s: (services.post_close(post=s.post, actor=s.boss), s.worker_cancels(s.start - 30 * H)),
        "cancelled", 0, 0, 2 * SLOT, -SLOT),
    Row("no-show: the worker cancels after the start", "open", "—",
        lambda s: s.worker_cancels(s.start + 29 * MIN), "no_show", 0, 0, SLOT, 0),
    Row("no-show: not checked in by start + 30 min", "expired", "—",
        lambda s: s.sweep(s.start + 31 * MIN), "no_show", 0, 0, 2 * SLOT, -SLOT),
    Row("no-show: policy already issued (premium earned)", "expired", "—",
        lambda s: (insurance.policy_issue(policy_id=s.order.policy.pk), s.sweep(s.start + 31 * MIN)),
        "no_show", 0, R, SLOT + P, -SLOT),
    Row("cancelled by the employer, early", "open", "—",
        lambda s: s.employer_cancels(s.start - 30 * H), "cancelled", 0, 0, 0, SLOT),
    Row("cancelled by the employer, late (compensation)", "open", "—",
        lambda s: s.employer_cancels(s.start - 2 * H), "cancelled", C, 0, -C, SLOT),
    Row("no-show: the employer may not cancel after the start", "expired", "—",
        _refused_then_no_show, "no_show", 0, 0, 2 * SLOT, -SLOT),
    Row("cancelled with the post, early", "cancelled", "—",
        lambda s: s.post_cancel(s.start - 30 * H), "cancelled", 0, 0, 2 * SLOT, -SLOT),
    Row("cancelled with the post, late (compensation)", "cancelled", "—",
        lambda s: s.post_cancel(s.start - 2 * H), "cancelled", C, 0, 2 * SLOT - C, -SLOT),
    Row("no-show: post cancelled after start + 30 min", "cancelled", "—",
        lambda s: s.post_cancel(s.start + 31 * MIN), "no_show", 0, 0, 2 * SLOT, -SLOT),
    Row("completed by agreement after the work", "open", "agreed (150 元)",
        lambda s: (s.work(), s.dispute(), s.end("agreed", amount=15000)), "completed", 15000, R, 5000, 0),
    Row("completed by agreement above the escrow", "open", "agreed (250 元)",
        lambda s: (s.work(), s.dispute(), s.end("agreed", amount=25000)), "completed", 25000, R, -5000, 0),
    Row("completed by agreement before check-in", "open", "agreed (50 元)",
        lambda s: (s.dispute(s.start - 30 * H), s.end("agreed", s.start - 29 * H, 5000)),
        "completed", 5000, 0, SLOT - 5000, 0),
    Row("case fails before the start: the order goes on and completes", "open", "failed",
        lambda s: (s.dispute(s.start - 30 * H), s.end("failed", s.start - 29 * H), s.work(), s.confirm("1")),
        "completed", P, R, 0, 0),
    Row("cancelled with the post during the case (late)", "cancelled", "failed",
        lambda s: (s.dispute(s.start - 30 * H), s.post_cancel(s.start - 2 * H), s.end("failed", s.start + 3 * H)),
        "cancelled", C, 0, 2 * SLOT - C, -SLOT),
    Row("cancelled without fault: the case outlived the start", "open", "transferred",
        lambda s: (s.dispute(s.start - 30 * H), s.end("transferred", s.start + H)), "cancelled", 0, 0, SLOT, 0),
    Row("cancelled without fault: the worker double-booked meanwhile", "open", "declined",
        _clash, "cancelled", 0, 0, 0, SLOT),
    Row("case on a checked-out order fails: auto-approval pays", "open", "failed",
        lambda s: (s.work(), s.dispute(), s.end("failed"), s.auto()), "completed", P, R, 0, 0),
    Row("case on a completed order fails: it stays paid", "open", "failed",
        lambda s: (s.work(), s.confirm("1"), s.dispute(s.order.ends_at + 2 * H), s.end("failed", s.order.ends_at + 3 * H)),
        "completed", P, R, 0, 0),
    Row("case on a no-show fails: it stays a no-show", "expired", "failed",
        lambda s: (s.sweep(s.start + 31 * MIN), s.dispute(s.start + H), s.end("failed", s.start + 2 * H)),
        "no_show", 0, 0, 2 * SLOT, -SLOT),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.ending} | {r.post} | {r.dispute}" for r in ROWS])
def test_ending(row: Row, employer, trade, street, worker):
    trade.risk_class = 3
    trade.save()
    kwargs = {"employer": employer, "trade": trade, "area": street, "slots": 2, "insurance_required": True}
    post = PostFactory(**kwargs)
    if row.post_kwargs and "hours" in row.post_kwargs:
        post.ends_at = post.starts_at + dt.timedelta(hours=row.post_kwargs["hours"])
        post.save(update_fields=["ends_at"])
    order = services.claim_create(post=post, worker=worker).order
    account, hold = ledger.employer_account(employer), money.post_hold(post)
    account.refresh_from_db()
    hold.refresh_from_db()
    before = (account.balance_fen, hold.balance_fen)
    assert before[1] == SLOT  # the other slot's money, set aside
    row.steps(Scene(post, order, worker, employer.created_by))

    order.refresh_from_db()
    account.refresh_from_db()
    hold.refresh_from_db()
    premium = (
        Posting.objects.filter(account__kind="insurance_payable", transaction__order=order).aggregate(
            s=Sum("amount_fen")
        )["s"]
        or 0
    )
    got = {
        "status": order.status,
        "worker": ledger.worker_account(worker).balance_fen,
        "insurer": premium,
        "account": account.balance_fen - before[0],
        "hold": hold.balance_fen - before[1],
    }
    want = {"status": row.status, "worker": row.worker, "insurer": row.insurer, "account": row.account,
            "hold": row.hold}  # fmt: skip
    assert got == want
    # Conservation: the order's 205 元 and anything the employer added went to the worker and the insurer.
    escrow = ledger.order_escrow(order).balance_fen
    assert SLOT - got["account"] - got["hold"] - escrow == got["worker"] + got["insurer"]
    assert reconcile_orders() == []
