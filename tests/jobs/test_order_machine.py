"""A hypothesis state machine over the whole life of orders, checked by the rules-aware reconciliation
(jobs/reconcile.py) after every step: the books balance *and* every order was paid what its ending says.

It interleaves 抢单 and 报名 (+ 录用), cancels by either side (before and after the start), the employer
closing or cancelling the post, a report hiding the post and staff restoring or removing it, disputes
filed at any stage and ended agreed (any amount), failed, declined or transferred, check-in, check-out
(with quantities within and beyond what the post allows), the employer's confirmation (any quantity),
auto-approval, no-shows, post expiry, top-ups (which pay owed wages) and time passing. Refused steps must
move no money.

Bounded for CI: ``max_examples`` × ``stateful_step_count`` below, derandomized (the same sequences every
run); ``GIGMARKET_PROPERTY_SCALE=10`` for a deeper run. Each example runs in a savepoint rolled back
afterwards, on PostgreSQL when the test settings use it (then the deferred balance trigger is checked after
every step too).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import DomainError
from jobs import money
from jobs import services as jobs
from jobs.models import Claim, Order, Post
from jobs.reconcile import reconcile_orders
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, verified_seeker
from wallet import services as wallet
from wallet.models import Account, LedgerTransaction

pytestmark = pytest.mark.django_db

START = dt.datetime(2031, 3, 3, 8, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
SCALE = float(os.environ.get("GIGMARKET_PROPERTY_SCALE", "1"))
EXAMPLES, STEPS = int(40 * SCALE), 30
LIVE = ("open", "filled")
STATS: dict[str, int] = {"steps": 0, "calls": 0, "refused": 0}
REFUSALS: set[str] = set()
SEEN: set[str] = set()  # order statuses (and how cancelled orders ended) reached in any example

quantities = st.one_of(
    st.sampled_from(["1", "0.5", "1.5", "2", "3", "10000"]),
    st.integers(1, 400).map(lambda n: str(Decimal(n) / 100)),
)


def has(*statuses: str):
    """A precondition: some order is in one of these states (so the rule has something to work on)."""
    return lambda self: Order.objects.filter(status__in=statuses).exists()


def commit_checks() -> None:
    """What COMMIT would check on PostgreSQL: every transaction balances (deferred constraint trigger)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def snapshot():
    return LedgerTransaction.objects.count(), list(Account.objects.order_by("pk").values_list("balance_fen"))


class Cast:
    employers: list
    workers: list
    trade = None
    area = None


class OrderMachine(RuleBasedStateMachine):
    cast = Cast()

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = START
        self.keys = itertools.count()
        self.cases = itertools.count(1)

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def clock(self):
        return time_machine.travel(self.now, tick=False)

    def move_clock(self, to: dt.datetime) -> None:
        """Time moves forward only; whenever it does, the beat tasks have run meanwhile."""
        if to > self.now:
            self.now = to
            with self.clock():
                jobs.posts_expire()
                jobs.orders_mark_no_show()
                jobs.orders_auto_approve()
                jobs.applications_expire()

    def attempt(self, call):
        """Run a service at the machine's time; a domain refusal must leave the books as they were."""
        STATS["calls"] += 1
        before = snapshot()
        try:
            with transaction.atomic(), self.clock():
                return call()
        except (DomainError, ValidationError) as exc:
            STATS["refused"] += 1
            REFUSALS.add(f"{getattr(call, '__name__', '')}{exc!r}"[:90])
            assert snapshot() == before, f"refused ({exc!r}) but money moved"
            return exc

    def pick(self, data, queryset, label):
        pks = sorted(queryset.values_list("pk", flat=True))
        if not pks:
            return None
        return queryset.get(pk=data.draw(st.sampled_from(pks), label=label))

    def order(self, data, *statuses):
        return self.pick(
            data, Order.objects.filter(status__in=statuses).select_related("post", "worker"), "order"
        )

    def boss(self, thing):
        return thing.employer.created_by

    # ----------------------------------------------------------------------------------- money in, posts

    @initialize(data=st.data())
    def open_the_market(self, data):
        """Employer 0 has money; employer 1 starts with owed wages (it confirmed two days on a one-day
        escrow with nothing else on its account), then whatever money comes in must pay them first."""
        wallet.employer_credit(employer=self.cast.employers[0], amount_fen=300_000, key="init:0")
        poor, worker = self.cast.employers[1], self.cast.workers[3]
        wallet.employer_credit(employer=poor, amount_fen=20_000, key="init:1")
        start = self.now + dt.timedelta(hours=2)
        with self.clock():
            post = jobs.post_create(
                employer=poor, actor=poor.created_by, publish=True, trade=self.cast.trade, title="先欠着的活",
                pay_fen=20_000, pay_unit="day", quantity=1, slots=1, area=self.cast.area, address="工业区8号",
                starts_at=start, ends_at=start + dt.timedelta(hours=9), contact_name="林老板",
                contact_phone="13700001112",
            )  # fmt: skip
            order = jobs.claim_create(post=post, worker=worker).order
        self.move_clock(start)
        with self.clock():
            jobs.order_check_in(order=order, worker=worker)
        self.move_clock(order.ends_at)
        with self.clock():
            jobs.order_check_out(order=order, worker=worker, quantity="1")
            jobs.order_confirm_completion(order=order, actor=poor.created_by, quantity="2")  # 200 元 owed
            wallet.employer_credit(employer=poor, amount_fen=data.draw(st.integers(1, 60_000)), key="init:2")
        for _ in range(data.draw(st.integers(1, 3), label="posts")):
            self.publish(data=data)

    @rule(employer=st.integers(0, 1), amount=st.integers(1, 100_000))
    def top_up(self, employer, amount):
        """Money in: it pays the employer's owed wages first."""
        with self.clock():
            wallet.employer_credit(
                employer=self.cast.employers[employer], amount_fen=amount, key=f"topup:{next(self.keys)}"
            )

    @rule(data=st.data())
    def publish(self, data):
        employer = self.cast.employers[data.draw(st.sampled_from([0, 0, 1]), label="employer")]
        unit = data.draw(st.sampled_from(["day", "hour", "piece", "job"]), label="unit")
        quantity = {"day": 1, "hour": 8, "piece": 20, "job": 1}[unit]
        pay = {"day": 20_000, "hour": 2_500, "piece": 1_000, "job": 30_000}[unit]
        start = self.now + dt.timedelta(hours=data.draw(st.integers(2, 60), label="lead_hours"))
        hours = data.draw(st.sampled_from([4, 8, 9, 30]), label="hours")
        self.attempt(
            lambda: jobs.post_create(
                employer=employer, actor=employer.created_by, publish=True, trade=self.cast.trade, title="随机岗位",
                pay_fen=pay, pay_unit=unit, quantity=quantity, slots=data.draw(st.integers(1, 3), label="slots"),
                area=self.cast.area, address="工业区8号", starts_at=start, ends_at=start + dt.timedelta(hours=hours),
                mode=data.draw(st.sampled_from(["grab", "apply"]), label="mode"),
                insurance_required=data.draw(st.booleans(), label="insured"), contact_name="陈老板",
                contact_phone="13700001111",
            )
        )  # fmt: skip

    @rule(data=st.data(), how=st.sampled_from(["close", "cancel", "hide", "restore", "remove"]))
    def post_changes(self, data, how):
        """The employer closes or cancels the post; a report hides it; staff restore or take it down."""
        if how in ("restore", "remove"):
            post = self.pick(data, Post.objects.filter(status="closed").exclude(hidden_from=""), "post")
        else:
            post = self.pick(data, Post.objects.filter(status__in=(*LIVE, "closed")), "post")
        if post is None:
            return
        calls = {
            "close": lambda: jobs.post_close(post=post, actor=self.boss(post)),
            "cancel": lambda: jobs.post_cancel(post=post, actor=self.boss(post), reason="不招了"),
            "hide": lambda: jobs.post_hide_for_review(post=post, actor=None),
            "restore": lambda: jobs.post_restore(post=post, actor=None),
            "remove": lambda: jobs.post_remove_after_review(post=post, actor=None),
        }
        self.attempt(calls[how])

    # --------------------------------------------------------------------------------------- claims

    @precondition(lambda self: Post.objects.filter(status="open").exists())
    @rule(data=st.data(), worker=st.integers(0, 3), accept=st.booleans())
    def claim(self, data, worker, accept):
        post = self.pick(data, Post.objects.filter(status="open", starts_at__gt=self.now), "post")
        if post is not None:
            self.attempt(lambda: jobs.claim_create(post=post, worker=self.cast.workers[worker]))
        claim = self.pick(data, Claim.objects.filter(status="pending").select_related("post"), "claim")
        if claim is not None and accept:
            self.attempt(lambda: jobs.claim_accept(claim=claim, actor=self.boss(claim.post)))

    # --------------------------------------------------------------------------------------- orders

    @precondition(has("confirmed"))
    @rule(data=st.data(), after_start=st.booleans())
    def worker_cancels(self, data, after_start):
        order = self.order(data, "confirmed")
        if order is None:
            return
        if after_start:
            self.move_clock(
                order.starts_at + dt.timedelta(minutes=data.draw(st.integers(0, 29), label="min"))
            )
        self.attempt(lambda: jobs.order_cancel_by_worker(order=order, worker=order.worker))

    @precondition(has("confirmed"))
    @rule(data=st.data())
    def employer_cancels(self, data):
        order = self.order(data, "confirmed")
        if order is not None:
            self.attempt(
                lambda: jobs.order_cancel_by_employer(order=order, actor=self.boss(order), reason="不用了")
            )

    @precondition(has(*Order.ACTIVE))
    @rule(data=st.data(), times=st.integers(1, 3))
    def order_moves_on(self, data, times):
        """One order's usual course, one to three steps of it: check-in, check-out (with a quantity within or
        beyond what the post allows), the employer's confirmation (any quantity, or the worker's) or its
        silence until auto-approval."""
        order = self.order(data, *Order.ACTIVE)
        for _ in range(times):
            order.refresh_from_db()
            if order.status == "confirmed":
                self.move_clock(
                    order.starts_at - dt.timedelta(minutes=data.draw(st.integers(0, 60), label="early"))
                )
                self.attempt(lambda: jobs.order_check_in(order=order, worker=order.worker))
            elif order.status == "checked_in":
                self.move_clock(max(self.now, order.starts_at + dt.timedelta(hours=1)))
                reported = data.draw(quantities, label="reported")
                self.attempt(
                    lambda reported=reported: jobs.order_check_out(
                        order=order, worker=order.worker, quantity=reported
                    )
                )
            elif order.status == "checked_out" and data.draw(st.booleans(), label="employer answers"):
                approved = data.draw(
                    st.one_of(st.none(), quantities, st.sampled_from(["5", "40"])), label="approved"
                )
                self.attempt(
                    lambda approved=approved: jobs.order_confirm_completion(
                        order=order, actor=self.boss(order), quantity=approved
                    )
                )
            elif order.status == "checked_out":
                self.move_clock(order.checked_out_at + dt.timedelta(hours=25))

    @precondition(has(*Order.ACTIVE, "completed", "no_show"))
    @rule(data=st.data(), by_worker=st.booleans())
    def dispute(self, data, by_worker):
        order = self.order(data, *Order.ACTIVE, "completed", "no_show")
        case = next(self.cases)
        actor = order.worker if by_worker else self.boss(order)
        self.attempt(lambda: jobs.order_mark_disputed(order=order, actor=actor, case_id=case))

    @precondition(has("disputed"))
    @rule(data=st.data(), outcome=st.sampled_from(["agreed", "failed", "declined", "transferred"]),
          amount=st.one_of(st.just(0), st.integers(1, 60_000)), wait=st.integers(0, 72 * 60))  # fmt: skip
    def end_dispute(self, data, outcome, amount, wait):
        order = self.order(data, "disputed")
        self.move_clock(self.now + dt.timedelta(minutes=wait))
        case = next(self.cases)

        def end():
            ended = jobs.order_dispute_end(
                order=order, actor=None, case_id=case, outcome=outcome, amount_fen=amount
            )
            if outcome == "agreed":
                money.order_settle_by_agreement(
                    order=ended, to_worker_fen=amount, key=f"case:{case}:agreement"
                )

        self.attempt(end)

    @rule(minutes=st.integers(10, 12 * 60))
    def time_passes(self, minutes):
        """No-shows are marked, posts expire, silent employers' orders are auto-approved."""
        self.move_clock(self.now + dt.timedelta(minutes=minutes))

    # ------------------------------------------------------------------------------------ the books

    @invariant()
    def every_order_paid_by_its_rules(self):
        STATS["steps"] += 1
        for status, by, paid, amount in Order.objects.values_list(
            "status", "cancelled_by", "paid_fen", "amount_fen"
        ):
            SEEN.add(f"{status}:{by}" if by else "completed:owed" if amount and paid < amount else status)
        commit_checks()
        assert reconcile_orders(now=self.now) == []


@pytest.fixture
def cast(db):
    from accounts.models import Area

    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    OrderMachine.cast.area = AreaFactory(
        name="西城街道", code="350186001000", level="street", parent=district
    )
    OrderMachine.cast.employers = [EmployerFactory(funds=0), EmployerFactory(funds=0)]
    OrderMachine.cast.workers = [verified_seeker(phone=f"1360000000{i}", name=f"工人{i}") for i in range(4)]
    OrderMachine.cast.trade = TradeFactory(name="小工", category="construction", risk_class=3)
    return OrderMachine.cast


def test_every_interleaving_pays_what_the_rules_say(cast, capsys):
    STATS.update(steps=0, calls=0, refused=0)
    SEEN.clear()
    started = time.monotonic()
    run_state_machine_as_test(
        OrderMachine,
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ),
    )  # fmt: skip
    with capsys.disabled():
        print(
            f"\norder machine: {EXAMPLES} examples × up to {STEPS} steps: {STATS['steps']} steps checked, "
            f"{STATS['calls']} service calls ({STATS['refused']} refused, nothing moved); "
            f"{time.monotonic() - started:.0f} s on {connection.vendor}; reached: {', '.join(sorted(SEEN))}"
        )
