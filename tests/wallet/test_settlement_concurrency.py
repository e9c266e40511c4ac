"""One worker's wallet under real concurrency (PostgreSQL): withdrawals out of it and settlements into it
from many orders, each on its own thread and connection, released together by a barrier. The wallet never
goes below zero, every success is in the ledger exactly once, nothing is lost, the books reconcile. And
duplicate calls racing with the same idempotency key (or on the same business event) have one effect.

PostgreSQL here allows 100 connections, shared with whoever else is testing: at most 36 threads at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
import time_machine
from django.db import close_old_connections
from django.db.models import Sum
from django.utils import timezone

from core.errors import DomainError
from jobs import money
from jobs import services as jobs
from jobs.models import Order
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, UserFactory, verified_seeker
from wallet import ledger
from wallet import services as wallet
from wallet.models import Account, LedgerTransaction, Posting
from wallet.selectors import reconcile

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PAY = 2_000  # 20 yuan an order
SEED = 10_000  # 100 yuan in the wallet before the race
CARD = "6217000000000000000"[:18]


def _card() -> str:
    from stdnum import luhn

    return CARD + luhn.calc_check_digit(CARD)


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call on its own thread (and connection), all released at once; returns each result, or
    the DomainError it raised, or ``("error", repr)`` for anything else."""
    assert len(calls) <= 36
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = calls[i]()
        except DomainError as exc:
            results[i] = exc
        except Exception as exc:
            results[i] = ("error", repr(exc))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    errors = [r for r in results if isinstance(r, tuple)]
    assert not errors, errors
    return results


def balance(account) -> int:
    return Account.objects.filter(pk=account.pk).values_list("balance_fen", flat=True).get()


@pytest.fixture
def cast(db):
    boss = UserFactory(phone="13700000201", name="陈老板", role="employer")
    employer = EmployerFactory(created_by=boss, name="西城劳务公司", funds=0)
    worker = verified_seeker(phone="13600000201", name="赵洪亮")
    street = AreaFactory(name="西城街道", code="350186001000", level="street")
    trade = TradeFactory(name="小工", category="construction", risk_class=2)

    def orders_ready(count: int, *, employer_spare: int) -> list[Order]:
        """``count`` orders of the worker (one post each, at separate times), checked out; the employer's
        account holds exactly their holds plus ``employer_spare``."""
        wallet.employer_credit(employer=employer, amount_fen=count * PAY + employer_spare, key="funds")
        first = timezone.now() + dt.timedelta(days=2)
        orders = []
        for i in range(count):
            start = first + dt.timedelta(hours=3 * i)
            post = jobs.post_create(
                employer=employer, actor=boss, publish=True, trade=trade, title=f"第{i}班小工", pay_fen=PAY,
                pay_unit="day", quantity=1, slots=1, area=street, address="工业区8号", starts_at=start,
                ends_at=start + dt.timedelta(hours=2), mode="grab", insurance_required=False,
                contact_name="陈老板", contact_phone="13700001111",
            )  # fmt: skip
            order = jobs.claim_create(post=post, worker=worker).order
            with time_machine.travel(order.starts_at, tick=False):
                jobs.order_check_in(order=order, worker=worker)
            with time_machine.travel(order.ends_at, tick=False):
                jobs.order_check_out(order=order, worker=worker, quantity="1")
            orders.append(order)
        assert balance(ledger.employer_account(employer)) == employer_spare
        return orders

    return boss, employer, worker, orders_ready


def seed(worker, amount: int = SEED) -> None:
    ledger.transfer(
        key="seed", kind=LedgerTransaction.Kind.RELEASE,
        legs=[(ledger.bank(), -amount), (ledger.worker_account(worker), amount)], memo="以往收入",
    )  # fmt: skip


def test_withdrawals_and_settlements_race_on_one_wallet(cast):
    boss, employer, worker, orders_ready = cast
    # 18 completions at 1.5 days each: 20 yuan from escrow + 10 yuan from the employer's account, which
    # only has 60 yuan spare, so 6 are paid in full and 12 stay partly owed (nobody's completion fails).
    orders = orders_ready(18, employer_spare=6_000)
    seed(worker)
    account = ledger.worker_account(worker)
    withdraw_amounts = [700 + 100 * i for i in range(18)]  # 7–24 yuan, 277 yuan in all

    calls = [
        (lambda o=o: jobs.order_confirm_completion(order=o, actor=boss, quantity="1.5")) for o in orders
    ] + [
        (lambda i=i, a=a: wallet.withdrawal_request(worker=worker, amount_fen=a, card_number=_card(),
                                                    holder_name=worker.realname.name, key=f"wd-{i}"))
        for i, a in enumerate(withdraw_amounts)
    ]  # fmt: skip
    results = race(calls)

    completions, withdrawals = results[:18], results[18:]
    assert all(isinstance(r, Order) for r in completions), completions
    refused = [r for r in withdrawals if isinstance(r, DomainError)]
    assert all(isinstance(r, ledger.InsufficientFunds) for r in refused), refused
    succeeded = [r for r in withdrawals if not isinstance(r, DomainError)]

    settled = Order.objects.filter(pk__in=[o.pk for o in orders])
    paid = settled.aggregate(s=Sum("paid_fen"))["s"]
    assert settled.filter(status="completed").count() == 18
    assert paid == 18 * PAY + 6_000  # every escrow, and the employer's spare money to the last fen
    assert settled.filter(settled_at__isnull=False).count() == 6
    assert all(o.paid_fen <= o.amount_fen == 3_000 for o in settled)
    withdrawn = sum(w.amount_fen for w in succeeded)
    assert balance(account) == SEED + paid - withdrawn >= 0
    assert balance(ledger.employer_account(employer)) == 0

    # Every success is in the ledger exactly once: one release per order, one debit per withdrawal, and
    # the wallet's postings are exactly those.
    for order in orders:
        assert LedgerTransaction.objects.filter(idempotency_key=f"order:{order.pk}:release").count() == 1
    for w in succeeded:
        assert LedgerTransaction.objects.filter(idempotency_key=f"withdrawal:{w.pk}").count() == 1
    lines = Counter(Posting.objects.filter(account=account).values_list("transaction__kind", flat=True))
    assert lines["withdrawal"] == len(succeeded) and sum(lines.values()) == 1 + 18 + 6 + len(succeeded)
    assert Posting.objects.filter(account=account).aggregate(s=Sum("amount_fen"))["s"] == balance(account)
    assert reconcile() == []


def test_many_withdrawals_never_overdraw_while_money_comes_in(cast):
    """The same race with the wallet nearly empty: whatever interleaving, no overdraft, nothing lost."""
    boss, _, worker, orders_ready = cast
    orders = orders_ready(12, employer_spare=0)
    seed(worker, 500)
    account = ledger.worker_account(worker)
    calls = [(lambda o=o: jobs.order_confirm_completion(order=o, actor=boss)) for o in orders] + [
        (lambda i=i: wallet.withdrawal_request(worker=worker, amount_fen=1_500, card_number=_card(),
                                               holder_name=worker.realname.name, key=f"w{i}"))
        for i in range(24)
    ]  # fmt: skip
    results = race(calls)
    ok = [r for r in results[12:] if not isinstance(r, DomainError)]
    # 5 + 12 × 20 = 245 yuan came in; at most 16 withdrawals of 15 yuan fit.
    assert len(ok) <= 16
    assert balance(account) == 500 + 12 * PAY - 1_500 * len(ok) >= 0
    assert reconcile() == []


def test_duplicate_withdrawals_with_one_key_take_the_money_once(cast):
    _, _, worker, _ = cast
    seed(worker)
    account = ledger.worker_account(worker)
    calls = [
        (lambda: wallet.withdrawal_request(worker=worker, amount_fen=3_000, card_number=_card(),
                                           holder_name=worker.realname.name, key="double-tap"))
    ] * 30  # fmt: skip
    results = race(calls)
    assert len({r.pk for r in results}) == 1
    assert balance(account) == SEED - 3_000
    assert LedgerTransaction.objects.filter(kind="withdrawal", postings__account=account).count() == 1
    assert reconcile() == []


def test_duplicate_transfers_with_one_key_post_once(cast):
    _, _, worker, _ = cast
    account = ledger.worker_account(worker)
    calls = [
        (lambda: ledger.transfer(key="settle:42", kind=LedgerTransaction.Kind.RELEASE,
                                 legs=[(ledger.bank(), -1_234), (account, 1_234)]))
    ] * 30  # fmt: skip
    results = race(calls)
    assert len({r.pk for r in results}) == 1
    assert (
        balance(account) == 1_234
        and LedgerTransaction.objects.filter(idempotency_key="settle:42").count() == 1
    )
    assert reconcile() == []


def test_one_order_confirmed_thirty_times_at_once_pays_once(cast):
    boss, employer, worker, orders_ready = cast
    (order,) = orders_ready(1, employer_spare=100_000)
    results = race([lambda: jobs.order_confirm_completion(order=order, actor=boss, quantity="2")] * 30)
    assert sum(isinstance(r, Order) for r in results) == 1
    assert {r.code for r in results if isinstance(r, DomainError)} == {"invalid_transition"}
    order.refresh_from_db()
    assert order.paid_fen == order.amount_fen == 2 * PAY and order.settled_at is not None
    assert balance(ledger.worker_account(worker)) == 2 * PAY
    assert balance(ledger.employer_account(employer)) == 100_000 - PAY
    assert reconcile() == []


def test_paying_what_is_owed_from_many_threads_pays_it_once(cast):
    """A completed order the employer could not pay in full; after a top-up, everyone asks at once."""
    boss, employer, worker, orders_ready = cast
    (order,) = orders_ready(1, employer_spare=0)
    jobs.order_confirm_completion(order=order, actor=boss, quantity=Decimal("3"))
    order.refresh_from_db()
    assert order.paid_fen == PAY and order.amount_fen == 3 * PAY and order.settled_at is None
    wallet.employer_credit(employer=employer, amount_fen=50_000, key="later")
    results = race([lambda: money.order_pay_shortfall(order=order)] * 30)
    assert set(results) == {0}
    order.refresh_from_db()
    assert order.paid_fen == order.amount_fen and order.settled_at is not None
    assert balance(ledger.worker_account(worker)) == 3 * PAY
    assert balance(ledger.employer_account(employer)) == 50_000 - 2 * PAY
    assert reconcile() == []
