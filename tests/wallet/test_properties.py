"""Property-based tests of the money core (hypothesis): random sequences of operations, with the books
checked after every step.

1. **Through the jobs services** (a state machine on a moving clock): top-up (and repeated payments) /
   publish, insured or not / 抢单, 报名 + 录用 / the insurer issuing or refusing a policy / check-in + out /
   confirmation with any quantity / auto-approval / cancellation by either side / no-show / dispute /
   close, cancel and expiry of posts / paying what is owed / withdrawals (requested, then processed or
   failed at the bank).
2. **At the wallet's own level**, thousands of short sequences calling the wallet services in any order,
   including orders the jobs layer would never produce (release before funding, refund twice, a dispute in
   between), on a fixed cast of posts and orders.

After every step: ``reconcile() == []`` (and on PostgreSQL the deferred balance trigger passes, as at
commit); all balances sum to zero; nothing owned is negative; the money the employers paid in minus what
reached the bank sits, to the fen, in employer accounts + post holds + order escrows + worker wallets +
insurance payable + withdrawals in flight; per employer and per worker the same identity from the orders'
own figures; no order paid more than approved, settled exactly when paid in full; every live post's hold
funds its free slots; a refused operation moved nothing.

Each example runs in a savepoint rolled back afterwards; ``derandomize`` makes every run the same.
"""

import datetime as dt
import itertools
import os
import zoneinfo
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from stdnum import luhn

from core.errors import DomainError, NotAllowed
from insurance import services as insurance
from insurance.models import Policy
from jobs import money
from jobs import services as jobs
from jobs.models import Claim, Order, Post
from tests.factories import AreaFactory, EmployerFactory, PostFactory, TradeFactory, verified_seeker
from wallet import ledger
from wallet import services as wallet
from wallet.gateways import Payout
from wallet.models import Account, LedgerTransaction, Posting
from wallet.selectors import reconcile

pytestmark = pytest.mark.django_db

START = dt.datetime(2031, 3, 3, 8, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
LIVE = ("open", "filled")
IN_PROGRESS = ("confirmed", "checked_in", "checked_out", "completed")
PREMIUMS = {0: 500, 1: 600}  # trade 0: risk class 3 (cover if asked); trade 1: class 4 (cover required)
CARD = "621700000000000000" + luhn.calc_check_digit("621700000000000000")

# Tuned to about a minute per test on a busy 2-core machine; GIGMARKET_PROPERTY_SCALE=10 for a deeper run.
SCALE = float(os.environ.get("GIGMARKET_PROPERTY_SCALE", "1"))
SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
}

quantities = st.one_of(
    st.sampled_from([Decimal("1"), Decimal("0.5"), Decimal("1.5"), Decimal("3")]),
    st.integers(min_value=1, max_value=500).map(lambda n: Decimal(n) / 100),
)


POST_ARGS = {
    "employer": st.integers(0, 1), "trade": st.integers(0, 1), "insured": st.booleans(), "grab": st.booleans(),
    "slots": st.integers(1, 3), "pay": st.one_of(st.sampled_from([1, 5_000, 20_000]), st.integers(1, 20_000)),
    "lead_hours": st.integers(1, 60), "hours": st.integers(2, 10),
}  # fmt: skip


def commit_checks() -> None:
    """What COMMIT would check on PostgreSQL: every transaction balances (deferred constraint trigger)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def snapshot():
    return LedgerTransaction.objects.count(), list(Account.objects.order_by("pk").values_list("balance_fen"))


def balance_of(account) -> int:
    return Account.objects.filter(pk=account.pk).values_list("balance_fen", flat=True).get()


def orders_books() -> list[dict]:
    return list(
        Order.objects.values(
            "pk", "status", "post_id", "employer_id", "worker_id", "amount_fen", "paid_fen", "settled_at",
            "compensation_fen", "policy__status", "policy__premium_fen",
        )
    )  # fmt: skip


def check_orders(orders: list[dict]) -> None:
    for o in orders:
        paid, amount = o["paid_fen"], o["amount_fen"]
        assert paid <= (amount or 0), o
        assert (o["settled_at"] is not None) == (amount is not None and paid >= amount), o


# =============================================================== 1. through the jobs services


class Cast:
    """Made once per test, outside the examples' savepoints: two employers, four workers, two trades."""

    employers: list
    workers: list
    trades: list
    area = None


class MoneyMachine(RuleBasedStateMachine):
    """Each rule picks its object among those in the right state (so most steps do something), at the
    machine's clock, which only moves forward."""

    cast = Cast()

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = START
        self.keys = itertools.count()
        self.topped_up = {e.pk: 0 for e in self.cast.employers}
        self.top_ups: list[tuple[int, int, str]] = []
        self.withdrawals: dict[int, tuple[int, int, str]] = {}  # pk → (worker pk, amount, key)
        self.withdrawal_status: dict[int, str] = {}
        self.post_cost: dict[int, int] = {}  # pay + premium of one slot, from the model, not the code
        self.short_posts: set[int] = set()  # a reopened slot the employer's empty account could not refill
        # What the next step can work on (for the rules' preconditions), refreshed by every books check.
        self.earners: list = []
        self.live_posts = self.orders_in_progress = self.pending_policies = False

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def clock(self):
        return time_machine.travel(self.now, tick=False)

    def attempt(self, call):
        """Run a service at the machine's time; a domain refusal must leave the books as they were."""
        before = snapshot()
        try:
            with self.clock():
                return call()
        except (DomainError, ValidationError) as exc:
            assert snapshot() == before, f"refused ({exc!r}) but money moved"
            return exc

    def pick(self, data, queryset):
        """One object of ``queryset`` (None when there is none)."""
        pks = sorted(queryset.values_list("pk", flat=True))
        if not pks:
            return None
        return queryset.get(pk=data.draw(st.sampled_from(pks)))

    def pick_order(self, data, *statuses):
        orders = Order.objects.filter(status__in=statuses)
        return self.pick(data, orders.select_related("post", "employer__created_by", "worker__realname"))

    # ------------------------------------------------------------------------------------- money in

    @initialize(
        a=st.one_of(st.sampled_from([100_000, 1_000_000]), st.integers(50_000, 1_000_000)),
        b=st.one_of(st.just(0), st.integers(0, 100_000)),
        data=st.data(),
    )
    def open_the_market(self, a, b, data):
        """Money on the employers' accounts (employer 1 never has much), a few posts, a few claims."""
        for employer, amount in enumerate((a, b)):
            if amount:
                self.top_up(employer=employer, amount=amount)
        for _ in range(data.draw(st.integers(1, 3), label="posts")):
            self.publish(**data.draw(st.fixed_dictionaries(POST_ARGS), label="post"))
        for _ in range(data.draw(st.integers(0, 4), label="claims")):
            self.grab(data=data, worker=data.draw(st.integers(0, 3)), accept=True)

    @rule(employer=st.integers(0, 1), amount=st.integers(1, 200_000), again=st.booleans(), data=st.data())
    def top_up(self, employer, amount, again=False, data=None):
        """Money in; or a payment notified again: the same idempotency key moves nothing, and with another
        amount it is refused."""
        if again and self.top_ups:
            employer_pk, amount, key = data.draw(st.sampled_from(self.top_ups), label="repeat")
            employer = next(e for e in self.cast.employers if e.pk == employer_pk)
            before = snapshot()
            wallet.employer_credit(employer=employer, amount_fen=amount, key=key)
            assert snapshot() == before
            refused = self.attempt(
                lambda: wallet.employer_credit(employer=employer, amount_fen=amount + 1, key=key)
            )
            assert getattr(refused, "code", None) == "idempotency_mismatch"
            return
        employer = self.cast.employers[employer]
        key = f"topup:{next(self.keys)}"
        wallet.employer_credit(employer=employer, amount_fen=amount, key=key)
        self.topped_up[employer.pk] += amount
        self.top_ups.append((employer.pk, amount, key))

    @rule(**POST_ARGS)
    def publish(self, employer, trade, insured, grab, slots, pay, lead_hours, hours):
        employer = self.cast.employers[employer]
        cost = pay + (PREMIUMS[trade] if insured or trade == 1 else 0)
        start = self.now + dt.timedelta(hours=lead_hours)
        account = ledger.employer_account(employer)
        had = balance_of(account)
        result = self.attempt(
            lambda: jobs.post_create(
                employer=employer, actor=employer.created_by, publish=True, trade=self.cast.trades[trade],
                title="随机岗位", pay_fen=pay, pay_unit="day", quantity=1, slots=slots, area=self.cast.area,
                address="工业区8号", starts_at=start, ends_at=start + dt.timedelta(hours=hours),
                mode="grab" if grab else "apply", insurance_required=insured, contact_name="陈老板",
                contact_phone="13700001111",
            )
        )  # fmt: skip
        if isinstance(result, Post):
            assert had >= slots * cost and balance_of(account) == had - slots * cost
            self.post_cost[result.pk] = cost
        else:
            assert isinstance(result, ledger.InsufficientFunds), result
            assert had < slots * cost and f"还差{(slots * cost - had) / 100:.2f}元" in result.message

    @precondition(lambda self: self.live_posts)
    @rule(data=st.data(), how=st.sampled_from(["close", "cancel"]))
    def end_post(self, data, how):
        post = self.pick(data, Post.objects.filter(status__in=LIVE))
        if post is None:
            return
        actor = post.employer.created_by
        if how == "close":
            self.attempt(lambda: jobs.post_close(post=post, actor=actor))
        else:
            self.attempt(lambda: jobs.post_cancel(post=post, actor=actor, reason="不招了"))

    # --------------------------------------------------------------------------------------- claims

    @precondition(lambda self: self.live_posts)
    @rule(data=st.data(), worker=st.integers(0, 3), accept=st.booleans())
    def grab(self, data, worker, accept):
        """抢单, or 报名 on an apply post (and the employer 录用 at once, or later). Refusals (overlap,
        already claimed, full) are fine; want of money on a funded post is not."""
        post = self.pick(data, Post.objects.filter(status="open", starts_at__gt=self.now))
        if post is None:
            return
        result = self.attempt(lambda: jobs.claim_create(post=post, worker=self.cast.workers[worker]))
        if getattr(result, "code", None) == "hold_short":
            assert post.pk in self.short_posts, "a 抢单 failed for want of money on a funded post"
        elif isinstance(result, DomainError):
            assert result.code in ("overlap", "duplicate", "full"), result
        claim = self.pick(data, Claim.objects.filter(status="pending")) if accept else None
        if claim is not None:
            result = self.attempt(
                lambda: jobs.claim_accept(claim=claim, actor=claim.post.employer.created_by)
            )
            if getattr(result, "code", None) == "hold_short":
                assert claim.post_id in self.short_posts, "a 录用 failed for want of money on a funded post"

    @precondition(lambda self: self.pending_policies)
    @rule(data=st.data(), refuses=st.booleans())
    def insurer_answers(self, data, refuses):
        """After confirmation the insurer writes the policy, or refuses it (the premium goes back)."""
        policy = self.pick(data, Policy.objects.filter(status="pending"))
        if policy is None:
            return
        with self.clock():
            if refuses:
                insurance.policy_fail(policy=policy, reason="保险公司拒保该风险", code="2001")
            else:
                insurance.policy_issue(policy_id=policy.pk)

    # --------------------------------------------------------------------------------------- orders

    @precondition(lambda self: self.orders_in_progress)
    @rule(data=st.data(), times=st.integers(1, 3))
    def orders_move_on(self, data, times):
        """The next thing that happens to one or a few orders in progress, whatever their state allows."""
        for _ in range(times):
            order = self.pick_order(data, "confirmed", "checked_in", "checked_out", "completed")
            if order is not None:
                self.act_on(order, data)

    def act_on(self, order, data):
        choices = {  # weighted towards the usual course of an order
            "confirmed": ["check_in"] * 4 + ["cancel_by_worker", "cancel_by_employer", "dispute"],
            "checked_in": ["check_out"] * 5 + ["dispute"],
            "checked_out": ["confirm"] * 5 + ["dispute"],
            "completed": ["pay_owed"] * 3 + ["dispute"],
        }[order.status]
        action = data.draw(st.sampled_from(choices), label="action")
        worker, boss = order.worker, order.employer.created_by
        if action == "check_in":  # the worker arrives: the clock moves to the start, if not past it
            self.now = max(self.now, order.starts_at)
            self.attempt(lambda: jobs.order_check_in(order=order, worker=worker))
        elif action == "check_out":
            self.now = max(self.now, order.ends_at)
            quantity = data.draw(quantities, label="reported")
            self.attempt(lambda: jobs.order_check_out(order=order, worker=worker, quantity=quantity))
        elif action == "confirm":
            quantity = data.draw(st.one_of(st.none(), quantities), label="approved")
            self.attempt(lambda: jobs.order_confirm_completion(order=order, actor=boss, quantity=quantity))
        elif action in ("cancel_by_worker", "cancel_by_employer"):
            if action == "cancel_by_worker":
                self.attempt(lambda: jobs.order_cancel_by_worker(order=order, worker=worker))
            else:
                self.attempt(lambda: jobs.order_cancel_by_employer(order=order, actor=boss, reason="不用了"))
            # A reopened slot is refilled from the employer's account (compensation paid, a premium already
            # returned): only an account drained to zero may leave the hold short.
            if balance_of(ledger.employer_account(order.employer)) == 0:
                self.short_posts.add(order.post_id)
        elif action == "pay_owed":  # once the employer has topped up, what is owed is paid
            with self.clock():
                money.order_pay_shortfall(order=order)
        else:
            with self.clock():
                jobs.order_mark_disputed(order=order, actor=worker, reason="欠薪")
            for call in (money.order_release, money.order_refund):
                refused = self.attempt(lambda call=call: call(order=order))
                assert isinstance(refused, NotAllowed) and refused.code == "escrow_held"

    @rule(minutes=st.integers(10, 48 * 60))
    def time_passes(self, minutes):
        """The beat tasks run: posts expire, no-shows are marked, silent employers' orders approved."""
        self.now += dt.timedelta(minutes=minutes)
        with self.clock():
            jobs.posts_expire()
            jobs.orders_mark_no_show()
            jobs.orders_auto_approve()
            jobs.applications_expire()

    # ------------------------------------------------------------------------------------ money out

    @precondition(lambda self: self.earners)
    @rule(data=st.data(), share=st.sampled_from([Decimal("0.3"), 1, 2]), repeat=st.booleans())
    def withdraw(self, data, share, repeat):
        """提现 through the wallet service by a worker who has earned something (a share of the balance, or
        more than it): the wallet is debited now, refused above the balance."""
        user = data.draw(st.sampled_from(self.earners), label="worker")
        had = balance_of(ledger.worker_account(user))
        amount = min(max(100, int(had * share)), 5_000_000)  # 1 yuan to 50,000 yuan a time
        repeated = repeat and bool(self.withdrawals)
        if repeated:  # the same request again (a double tap): the first withdrawal, nothing moves
            worker_pk, amount, key = list(self.withdrawals.values())[-1]
            user = next(w for w in self.cast.workers if w.pk == worker_pk)
            had = balance_of(ledger.worker_account(user))
        else:
            key = f"withdraw:{next(self.keys)}"
        result = self.attempt(
            lambda: wallet.withdrawal_request(
                worker=user, amount_fen=amount, card_number=CARD, holder_name=user.realname.name, key=key
            )
        )
        if repeated:
            assert result.pk in self.withdrawals and balance_of(ledger.worker_account(user)) == had
        elif isinstance(result, DomainError):
            assert isinstance(result, ledger.InsufficientFunds) and had < amount
        else:
            assert had >= amount and balance_of(ledger.worker_account(user)) == had - amount
            self.withdrawals[result.pk] = (user.pk, amount, key)
            self.withdrawal_status[result.pk] = "requested"

    @precondition(lambda self: "requested" in self.withdrawal_status.values())
    @rule(data=st.data(), paid=st.booleans())
    def bank_answers(self, data, paid):
        """The bank pays the card, or fails and the money goes back to the wallet."""
        waiting = [pk for pk, status in self.withdrawal_status.items() if status == "requested"]
        if not waiting:
            return
        pk = data.draw(st.sampled_from(waiting))
        result = Payout("processed", "B1") if paid else Payout("failed", "B1", "户名与卡号不符")
        with self.clock():
            wallet.withdrawal_settle(withdrawal_id=pk, result=result)
            wallet.withdrawal_settle(withdrawal_id=pk, result=result)  # a repeated answer moves nothing
        self.withdrawal_status[pk] = "processed" if paid else "failed"

    # ------------------------------------------------------------------------------------ the books

    @invariant()
    def books_hold(self):
        commit_checks()
        assert reconcile() == []
        fields = ("kind", "allow_negative", "balance_fen", "employer_id", "user_id", "order_id", "post_id",
                  "post__employer_id", "post__status", "post__slots_left")  # fmt: skip
        by_kind: dict[str, int] = defaultdict(int)
        employer_side: dict[int, int] = defaultdict(int)  # the employer's account + the holds of its posts
        wallets, escrow, live_posts = defaultdict(int), {}, False
        for a in Account.objects.values(*fields):
            bal = a["balance_fen"]
            by_kind[a["kind"]] += bal
            assert a["allow_negative"] or bal >= 0, a
            if a["kind"] == "employer":
                employer_side[a["employer_id"]] += bal
            elif a["kind"] == "post_hold":
                employer_side[a["post__employer_id"]] += bal
                if a["post__status"] in LIVE:  # every free slot is funded
                    live_posts = True
                    need = a["post__slots_left"] * self.post_cost[a["post_id"]]
                    assert bal <= need and (bal == need or a["post_id"] in self.short_posts), (a, need)
                else:
                    assert bal == 0, a
            elif a["kind"] == "order_escrow":
                escrow[a["order_id"]] = bal
            elif a["kind"] == "worker":
                wallets[a["user_id"]] = bal
        assert sum(by_kind.values()) == 0

        status = self.withdrawal_status
        in_flight = sum(a for pk, (_, a, _) in self.withdrawals.items() if status[pk] == "requested")
        out = sum(a for pk, (_, a, _) in self.withdrawals.items() if status[pk] == "processed")
        assert by_kind["platform_clearing"] == in_flight
        assert by_kind["external_bank"] == -(sum(self.topped_up.values()) - out)

        orders = orders_books()
        check_orders(orders)
        payable = dict(
            Posting.objects.filter(account__kind="insurance_payable")
            .values_list("transaction__order_id")
            .annotate(total=Sum("amount_fen"))
            .order_by()
        )
        for o in orders:
            # The premium stays with the insurer unless the policy was refused or cancelled before cover.
            kept = o["policy__premium_fen"] if o["policy__status"] not in (None, "cancelled", "failed") else 0
            assert payable.get(o["pk"], 0) == kept, o
            employer_side[o["employer_id"]] += (
                escrow.get(o["pk"], 0) + o["paid_fen"] + o["compensation_fen"] + kept
            )
        for employer in self.cast.employers:
            assert employer_side[employer.pk] == self.topped_up[employer.pk], employer
        for worker in self.cast.workers:
            earned = sum(o["paid_fen"] + o["compensation_fen"] for o in orders if o["worker_id"] == worker.pk)
            taken = sum(
                a for pk, (w, a, _) in self.withdrawals.items() if w == worker.pk and status[pk] != "failed"
            )
            assert wallets.get(worker.pk, 0) == earned - taken, worker

        # What the next step can work on, read from what was just checked.
        self.earners = [w for w in self.cast.workers if wallets.get(w.pk, 0) >= 100]
        self.live_posts = live_posts
        self.orders_in_progress = any(o["status"] in IN_PROGRESS for o in orders)
        self.pending_policies = any(o["policy__status"] == "pending" for o in orders)


@pytest.fixture
def cast(db):
    from accounts.models import Area

    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    MoneyMachine.cast.area = AreaFactory(
        name="西城街道", code="350186001000", level="street", parent=district
    )
    MoneyMachine.cast.employers = [EmployerFactory(funds=0), EmployerFactory(funds=0)]
    MoneyMachine.cast.workers = [verified_seeker(phone=f"1360000000{i}", name=f"工人{i}") for i in range(4)]
    MoneyMachine.cast.trades = [
        TradeFactory(name="小工", category="construction", risk_class=3),
        TradeFactory(name="高处作业", category="construction", risk_class=4),
    ]
    return MoneyMachine.cast


def test_random_sequences_through_the_jobs_services(cast):
    run_state_machine_as_test(
        MoneyMachine, settings=settings(max_examples=int(80 * SCALE), stateful_step_count=25, **SETTINGS)
    )


# ============================================================= 2. the wallet services, any order


BASELINE = (100_000, 36_554)  # employer 1 has exactly what its two posts set aside, nothing more


@pytest.fixture
def board(db):
    """Two employers with an uninsured and an insured post each, both slots of every post taken by a
    confirmed, funded order (rows written directly: the jobs layer is not involved), three workers.
    Employer 0 keeps 63,446 fen on its account, employer 1 nothing. Made once, outside the examples."""
    employers = [EmployerFactory(funds=funds) for funds in BASELINE]
    workers = [verified_seeker(phone=f"1350000000{i}", name=f"工人{i}") for i in range(3)]
    trade = TradeFactory(name="小工", category="construction", risk_class=3)
    for singleton in (ledger.bank, ledger.clearing, ledger.insurance_payable):
        singleton()
    for worker in workers:
        ledger.worker_account(worker)
    posts, orders = [], []
    for employer in employers:
        for insured, pay in ((False, 10_000), (True, 7_777)):  # 2 × 10,000 + 2 × (7,777 + 500) = 36,554
            post = PostFactory(
                employer=employer, trade=trade, slots=2, pay_fen=pay, insurance_required=insured
            )
            posts.append(post)
            for worker in workers[:2] if insured else workers[1:]:
                claim = Claim.objects.create(post=post, worker=worker, status="confirmed")
                order = Order.objects.create(
                    claim=claim, post=post, worker=worker, employer=employer, starts_at=post.starts_at,
                    ends_at=post.ends_at,
                )  # fmt: skip
                money.order_escrow_fund(order=order)
                orders.append(order)
            Post.objects.filter(pk=post.pk).update(slots_left=0, status="filled")
    assert balance_of(ledger.employer_account(employers[1])) == 0 and reconcile() == []
    return employers, workers, posts, orders


def ops(n_employers=2, n_workers=3, n_posts=4, n_orders=8):
    e, w, p, o = (st.integers(0, n - 1) for n in (n_employers, n_workers, n_posts, n_orders))
    return st.one_of(
        st.tuples(st.just("top_up"), e, st.integers(1, 30_000)),
        st.tuples(st.just("fund_again"), p, o),
        st.tuples(st.just("complete"), o, st.integers(0, 30_000)),
        st.tuples(st.just("cancel"), o, st.integers(0, 12_000), st.booleans()),
        st.tuples(st.just("pay_owed"), o),
        st.tuples(st.just("release_post"), p),
        st.tuples(st.just("dispute"), o),
        st.tuples(st.just("withdraw"), w, st.integers(1, 30_000)),
    )


class WalletRun:
    """One sequence at the wallet's level, with the model of what must have moved."""

    def __init__(self, board):
        self.employers, self.workers, self.posts, self.orders = board
        self.keys = itertools.count()
        self.topped = sum(BASELINE)
        self.withdrawn: dict[int, int] = defaultdict(int)
        self.compensation: dict[int, int] = defaultdict(int)

    def top_up(self, e, amount):
        wallet.employer_credit(employer=self.employers[e], amount_fen=amount, key=f"t{next(self.keys)}")
        self.topped += amount

    def fund_again(self, p, o):
        """Funding is keyed on the post / the order: again, it moves nothing."""
        before = snapshot()
        money.post_hold_fund(post=self.posts[p])
        money.order_escrow_fund(order=self.orders[o])
        assert snapshot() == before

    def complete(self, o, amount):
        """What jobs' _complete does; on an order already completed, settling again (pays only what is owed)."""
        order = self.orders[o]
        Order.objects.filter(pk=order.pk, status="confirmed").update(status="completed", amount_fen=amount)
        order.refresh_from_db()
        if order.status == "completed":
            money.order_release(order=order)

    def cancel(self, o, compensation, back_to_post):
        """What the jobs cancellations do (a freed slot reopens the post); on an order already cancelled,
        refunding again moves nothing."""
        order = self.orders[o]
        if Order.objects.filter(pk=order.pk, status="confirmed").update(
            status="cancelled", compensation_fen=compensation
        ):
            if back_to_post:
                Post.objects.filter(pk=order.post_id).update(slots_left=F("slots_left") + 1, status="open")
            order.refresh_from_db()
            in_escrow = balance_of(ledger.order_escrow(order))
            money.order_refund(order=order, compensation_fen=compensation, back_to_post=back_to_post)
            self.compensation[order.pk] = min(compensation, in_escrow)
        elif Order.objects.filter(pk=order.pk, status="cancelled").exists():
            before = snapshot()
            money.order_refund(order=order, compensation_fen=compensation, back_to_post=back_to_post)
            assert snapshot() == before

    def pay_owed(self, o):
        money.order_pay_shortfall(order=self.orders[o])

    def release_post(self, p):
        Post.objects.filter(pk=self.posts[p].pk).update(status="closed")
        money.post_hold_release(post=self.posts[p], reason="测试")

    def dispute(self, o):
        order = self.orders[o]
        if Order.objects.filter(pk=order.pk, status__in=("confirmed", "completed")).update(status="disputed"):
            before = snapshot()
            for call in (money.order_release, money.order_refund):
                with pytest.raises(NotAllowed):
                    call(order=order)
            assert snapshot() == before

    def withdraw(self, w, amount):
        user = self.workers[w]
        ledger.transfer(
            key=f"w{next(self.keys)}", kind="withdrawal",
            legs=[(ledger.worker_account(user), -amount), (ledger.bank(), amount)],
        )  # fmt: skip
        self.withdrawn[user.pk] += amount

    def step(self, name, *args):
        before = snapshot()
        try:
            with transaction.atomic():
                getattr(self, name)(*args)
        except DomainError as exc:
            assert snapshot() == before, f"{name}{args}: refused ({exc!r}) but money moved"
            assert name == "withdraw" and isinstance(exc, ledger.InsufficientFunds), (name, args, exc)
            assert balance_of(ledger.worker_account(self.workers[args[0]])) < args[1]

    def check(self):
        commit_checks()
        assert reconcile() == []
        accounts = list(
            Account.objects.values_list(
                "kind", "user_id", "balance_fen", "allow_negative", "post__slots_left"
            )
        )
        assert sum(bal for _, _, bal, _, _ in accounts) == 0
        assert all(bal >= 0 for _, _, bal, contra, _ in accounts if not contra)
        bank = sum(bal for kind, _, bal, _, _ in accounts if kind == "external_bank")
        assert bank == -(self.topped - sum(self.withdrawn.values()))
        wallets = {user: bal for kind, user, bal, _, _ in accounts if kind == "worker"}
        books = orders_books()
        check_orders(books)
        for user in self.workers:
            earned = sum(
                o["paid_fen"] + self.compensation[o["pk"]] for o in books if o["worker_id"] == user.pk
            )
            assert wallets.get(user.pk, 0) == earned - self.withdrawn[user.pk], user


def test_thousands_of_wallet_sequences_keep_the_books(board):
    @settings(max_examples=int(1000 * SCALE), **SETTINGS)
    @given(steps=st.lists(ops(), min_size=1, max_size=5))
    def run(steps):
        with transaction.atomic():
            books = WalletRun(board)
            for step in steps:
                books.step(*step)
                books.check()
            transaction.set_rollback(True)

    run()
