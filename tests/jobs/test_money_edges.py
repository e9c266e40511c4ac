"""Issue 20, "money at the edges": each way an order can end pays what the rules say. One regression test
per case the issue reproduced (each failed on the code before the fix), through the services, with the
clock moved by time-machine."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.urls import reverse

from accounts import services as account_services
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from insurance.models import Policy
from insurance.payable import payable_balance
from jobs import money, services
from jobs.models import Order, Post, WorkerStats
from jobs.selectors import BoardQuery, board
from tests.factories import EmployerFactory, PostFactory, verified_seeker
from wallet import ledger
from wallet import services as wallet
from wallet.models import LedgerTransaction

pytestmark = pytest.mark.django_db

PAY = 20000


def at(moment):
    return time_machine.travel(moment, tick=False)


def balance(account) -> int:
    account.refresh_from_db()
    return account.balance_fen


def work(order, worker, *, quantity="1"):
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker)
    with at(order.ends_at):
        services.order_check_out(order=order, worker=worker, quantity=quantity)


@pytest.fixture
def order(post, worker):
    return services.claim_create(post=post, worker=worker).order


@pytest.fixture
def worker3(db):
    return verified_seeker(phone="13600000003", name="孙师傅")


# ------------------------------------------------------------------- 1. quantities have a ceiling


@pytest.mark.parametrize(
    ("unit", "hours", "quantity", "ceiling"),
    [("day", 9, 1, 1), ("day", 50, 1, 3), ("day", 9, 2, 2), ("hour", 8, 8, 8), ("hour", 7.5, 4, Decimal("7.5")),
     ("piece", 9, 50, 50), ("class_hour", 9, 4, 4), ("job", 72, 1, 1)],
)  # fmt: skip
def test_quantity_ceiling_follows_the_post(employer, trade, street, unit, hours, quantity, ceiling):
    post = PostFactory(
        employer=employer, trade=trade, area=street, pay_unit=unit, quantity=quantity, hold=False
    )
    post.ends_at = post.starts_at + dt.timedelta(hours=hours)
    assert services.quantity_ceiling(post) == Decimal(ceiling)


def test_worker_cannot_report_more_than_the_post_and_auto_approval_pays_at_most_the_escrow(
    employer, trade, street, worker, boss
):
    """The issue's case: a 1-day post at 200 元/天, the worker reports 10000 days, auto-approval paid 50,200
    元 from the employer's whole balance. Now the report is refused above the post's length, and what
    auto-approval pays is capped at the escrow (a 3-day shift paid for 1 day: more needs the employer)."""
    post = PostFactory(employer=employer, trade=trade, area=street, slots=1)
    post.ends_at = post.starts_at + dt.timedelta(days=2, hours=9)  # a 3-day shift, escrow for 1 day
    Post.objects.filter(pk=post.pk).update(ends_at=post.ends_at)
    order = services.claim_create(post=post, worker=worker).order
    account = ledger.employer_account(employer)
    before = balance(account)
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker)
    with at(order.ends_at):
        with pytest.raises(DomainError) as info:
            services.order_check_out(order=order, worker=worker, quantity="10000")
        assert info.value.code == "above_ceiling" and "最多可填报3天" in info.value.message
        services.order_check_out(order=order, worker=worker, quantity="3")
    with at(order.ends_at + dt.timedelta(hours=25)):
        assert services.orders_auto_approve() == 1
    order.refresh_from_db()
    assert order.auto_approved and order.approved_quantity == 1 and order.amount_fen == PAY == order.paid_fen
    assert balance(account) == before  # nothing drawn from money held for anything else
    assert balance(ledger.worker_account(worker)) == PAY
    assert order.events.last().data["reported"] == "3.00"


def test_employer_may_confirm_more_than_the_escrow(order, worker, boss):
    work(order, worker)
    with at(order.ends_at):
        services.order_confirm_completion(order=order, actor=boss, quantity="1.5")
    order.refresh_from_db()
    assert order.amount_fen == order.paid_fen == 30000


# ------------------------------------------------------------------ 2. owed wages are paid


def test_owed_wages_are_paid_by_the_next_credit_oldest_first(trade, street, worker, worker2, boss, client):
    """The employer confirms 1.5 days on each of two orders while holding 1 and nothing else: 100 元 owed
    on each. A top-up of 150 元 pays the older debt in full and 50 元 of the newer, in that transaction; a
    post's hold coming back pays the rest."""
    poor = EmployerFactory(created_by=boss, name="欠薪测试单位", funds=0)
    wallet.employer_credit(employer=poor, amount_fen=3 * PAY, key="t:fund")
    first = PostFactory(employer=poor, trade=trade, area=street, slots=1)
    second = PostFactory(employer=poor, trade=trade, area=street, slots=1, starts_at=first.starts_at)
    spare = PostFactory(employer=poor, trade=trade, area=street, slots=1)
    older = services.claim_create(post=first, worker=worker).order
    newer = services.claim_create(post=second, worker=worker2).order
    for o, w, late in ((older, worker, 0), (newer, worker2, 1)):
        work(o, w)
        with at(o.ends_at + dt.timedelta(minutes=late)):
            services.order_confirm_completion(order=o, actor=boss, quantity="1.5")
    for o in (older, newer):
        o.refresh_from_db()
        assert (o.amount_fen, o.paid_fen, o.settled_at) == (30000, PAY, None)
    assert balance(ledger.employer_account(poor)) == 0

    client.force_login(worker2)
    assert "待付 100.00 元" in client.get(reverse("wallet:mine")).content.decode()
    client.force_login(boss)
    page = client.get(reverse("wallet:escrow", args=[poor.pk])).content.decode()
    assert "欠付工资" in page and page.count("欠 100.00 元") == 4  # the debts, and the orders table

    wallet.employer_credit(employer=poor, amount_fen=15000, key="t:topup")
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.paid_fen == 30000 and older.settled_at is not None
    assert newer.paid_fen == 25000 and newer.settled_at is None
    assert balance(ledger.employer_account(poor)) == 0
    services.post_close(post=spare, actor=boss)  # its hold (200 元) comes back: the rest of the debt first
    newer.refresh_from_db()
    assert newer.paid_fen == 30000 and newer.settled_at is not None
    assert balance(ledger.employer_account(poor)) == PAY - 5000
    assert balance(ledger.worker_account(worker)) == balance(ledger.worker_account(worker2)) == 30000


# ------------------------------------------------- 3. a post cancelled during a dispute; 4. overlap


def test_post_cancelled_during_a_dispute_cancels_the_order_when_the_case_fails(order, worker, boss, post):
    services.order_mark_disputed(order=order, actor=worker, reason="工作内容与描述不符", case_id=1)
    with at(post.starts_at - dt.timedelta(hours=2)):
        services.post_cancel(post=post, actor=boss, reason="项目取消")
    order.refresh_from_db()
    assert order.status == Order.Status.DISPUTED  # the case still holds the escrow
    with at(post.starts_at + dt.timedelta(hours=3)):  # the mediator fails the case after the start
        services.order_dispute_end(order=order, actor=None, case_id=1, outcome="failed")
        assert services.orders_mark_no_show() == 0
        with pytest.raises(InvalidTransition):
            services.order_check_in(order=order, worker=worker)
    order.refresh_from_db()
    compensation = 4000  # cancelled 2 h before the start: 20% of 200 元
    assert (order.status, order.cancelled_by, order.late_cancel, order.compensation_fen) == (
        "cancelled",
        "employer",
        True,
        compensation,
    )
    assert balance(ledger.worker_account(worker)) == compensation
    assert balance(ledger.order_escrow(order)) == 0 and balance(money.post_hold(post)) == 0
    assert WorkerStats.objects.get(user=worker).no_shows == 0


def test_a_dispute_that_outlives_the_start_ends_without_fault(order, worker, post):
    services.order_mark_disputed(order=order, actor=worker, case_id=1)
    with at(post.starts_at + dt.timedelta(hours=1)):
        services.order_dispute_end(order=order, actor=None, case_id=1, outcome="failed")
        services.orders_mark_no_show()
    order.refresh_from_db()
    assert (order.status, order.cancelled_by, order.compensation_fen) == ("cancelled", "dispute", 0)
    assert WorkerStats.objects.get(user=worker).no_shows == 0
    assert balance(ledger.order_escrow(order)) == 0


def test_a_disputed_order_still_blocks_its_hours_and_is_rechecked_when_the_case_ends(
    order, worker, employer, trade, street, post
):
    same_hours = PostFactory(employer=employer, trade=trade, area=street, starts_at=post.starts_at, slots=1)
    services.order_mark_disputed(order=order, actor=worker, case_id=1)
    with pytest.raises(Conflict) as info:
        services.claim_create(post=same_hours, worker=worker)
    assert info.value.code == "overlap"
    # An order for the same hours taken anyway (as before this check existed): the case's end re-checks.
    with mock.patch("jobs.services._check_no_overlap"):
        other = services.claim_create(post=same_hours, worker=worker).order
    services.order_dispute_end(order=order, actor=None, case_id=1, outcome="declined")
    order.refresh_from_db()
    assert (order.status, order.cancelled_by) == ("cancelled", "dispute")
    assert Order.objects.filter(worker=worker, status="confirmed").get() == other
    post.refresh_from_db()
    assert post.slots_left == 2 and balance(money.post_hold(post)) == 2 * PAY  # the slot and its money back


# --------------------------------------------------------------- 5, 6. hidden (reported) posts


def test_hidden_post_keeps_freed_pay_and_comes_back_open(post, worker, worker2, worker3):
    first = services.claim_create(post=post, worker=worker).order
    services.claim_create(post=post, worker=worker2)
    post.refresh_from_db()
    assert post.status == "filled"
    assert services.post_hide_for_review(post=post, actor=None) == "filled"
    services.order_cancel_by_worker(order=first, worker=worker)  # free: just booked
    assert balance(money.post_hold(post)) == PAY  # back to the hold, not the employer
    services.post_restore(post=post, actor=None, status="filled")
    post.refresh_from_db()
    assert (post.status, post.slots_left, post.hidden_from) == ("open", 1, "")
    services.claim_create(post=post, worker=worker3)  # was 「岗位托管资金不足」
    post.refresh_from_db()
    assert post.status == "filled" and balance(money.post_hold(post)) == 0


def test_hidden_post_past_its_start_expires_and_gives_its_hold_back(post, employer):
    account = ledger.employer_account(employer)
    before = balance(account)
    services.post_hide_for_review(post=post, actor=None)
    with at(post.starts_at + dt.timedelta(minutes=1)):
        assert services.posts_expire() == 1
    post.refresh_from_db()
    assert post.status == "expired" and balance(money.post_hold(post)) == 0
    assert balance(account) == before + 2 * PAY
    services.post_restore(post=post, actor=None, status="open")  # the case closes: nothing to restore
    services.post_remove_after_review(post=post, actor=None)


def test_hidden_then_cancelled_post_can_still_be_reviewed(post, boss):
    services.post_hide_for_review(post=post, actor=None)
    services.post_cancel(post=post, actor=boss, reason="不招了")
    post = services.post_restore(post=post, actor=None, status="open")
    assert post.status == "cancelled"
    assert services.post_remove_after_review(post=post, actor=None).status == "cancelled"


# --------------------------------------------------------------------------------- 9. smaller ones


def test_worker_cancelling_after_the_start_is_a_no_show(order, worker):
    with at(order.starts_at + dt.timedelta(minutes=29)):
        services.order_cancel_by_worker(order=order, worker=worker, reason="不去了")
    order.refresh_from_db()
    stats = WorkerStats.objects.get(user=worker)
    assert order.status == "no_show" and not order.late_cancel
    assert (stats.no_shows, stats.late_cancels) == (1, 0)
    assert balance(ledger.order_escrow(order)) == 0 and balance(ledger.worker_account(worker)) == 0


def test_employer_cannot_cancel_after_the_start(order, boss, worker, post):
    with at(order.starts_at + dt.timedelta(hours=3)):
        with pytest.raises(InvalidTransition) as info:
            services.order_cancel_by_employer(order=order, actor=boss, reason="人没来")
        assert info.value.code == "started"
        # within the grace the worker may still come
        with pytest.raises(InvalidTransition), at(order.starts_at + dt.timedelta(minutes=10)):
            services.post_cancel(post=post, actor=boss, reason="不干了")
        services.post_cancel(post=post, actor=boss, reason="不干了")  # past the grace: a no-show
    order.refresh_from_db()
    assert order.status == "no_show" and order.compensation_fen == 0
    assert balance(ledger.worker_account(worker)) == 0


def test_suspended_employer_posts_leave_the_board_and_cannot_be_claimed(
    post, employer, staff, worker, trade, street
):
    account = ledger.employer_account(employer)
    before = balance(account)
    account_services.employer_suspend(employer=employer, actor=staff, reason="拖欠工资被投诉")
    post.refresh_from_db()
    assert post.status == "closed" and balance(money.post_hold(post)) == 0
    assert balance(account) == before + 2 * PAY
    assert post.pk not in [p.pk for p in board(BoardQuery()).posts]
    with pytest.raises(InvalidTransition):
        services.claim_create(post=post, worker=worker)
    # A post still open (a race with the suspension) cannot be claimed either.
    Post.objects.filter(pk=post.pk).update(status="open")
    with pytest.raises(NotAllowed) as info:
        services.claim_create(post=post, worker=worker)
    assert info.value.code == "employer_suspended"


def test_case_agreed_before_check_in_voids_the_policy(employer, trade, street, worker):
    post = PostFactory(employer=employer, trade=trade, area=street, insurance_required=True, slots=1)
    order = services.claim_create(post=post, worker=worker).order
    policy = Policy.objects.get(order=order)
    assert policy.status == "pending"
    payable = payable_balance()
    services.order_mark_disputed(order=order, actor=worker, case_id=1)
    services.order_dispute_end(order=order, actor=None, case_id=1, outcome="agreed", amount_fen=5000)
    money.order_settle_by_agreement(order=order, to_worker_fen=5000, key="case:1:agreement:1")
    policy.refresh_from_db()
    assert policy.status == "cancelled"
    assert payable_balance() == payable - policy.premium_fen


def test_grab_racing_a_post_cancel_is_told_the_post_was_cancelled(post, worker):
    """The post is read open, then the employer's cancel commits before the guarded slot UPDATE."""
    gates = services._check_worker_gates

    def cancel_meanwhile(p, w):
        gates(p, w)
        Post.objects.filter(pk=p.pk).update(status=Post.Status.CANCELLED)

    with (
        mock.patch("jobs.services._check_worker_gates", cancel_meanwhile),
        pytest.raises(InvalidTransition) as info,
    ):
        services.claim_create(post=post, worker=worker)
    assert info.value.message == "岗位已取消" and info.value.code == "post_cancelled"
    assert not Order.objects.exists()


def test_an_agreement_on_an_order_with_owed_wages_pays_the_agreed_amount_once(trade, street, worker, boss):
    """Found by the state machine (tests/jobs/test_order_machine.py): a case on a completed order with owed
    wages, money arriving while it runs, then an agreement. The agreement's pay was paid twice: once as
    "owed wages" when the case ended, again by the settlement."""
    poor = EmployerFactory(created_by=boss, name="欠薪测试单位", funds=0)
    wallet.employer_credit(employer=poor, amount_fen=PAY, key="t:fund")
    post = PostFactory(employer=poor, trade=trade, area=street, slots=1)
    order = services.claim_create(post=post, worker=worker).order
    work(order, worker)
    with at(order.ends_at):
        services.order_confirm_completion(order=order, actor=boss, quantity="1.5")  # 100 元 owed
    services.order_mark_disputed(order=order, actor=worker, case_id=9)
    wallet.employer_credit(employer=poor, amount_fen=50_000, key="t:topup")  # held: the order is disputed
    order.refresh_from_db()
    assert order.paid_fen == PAY
    ended = services.order_dispute_end(order=order, actor=None, case_id=9, outcome="agreed", amount_fen=5000)
    assert money.order_settle_by_agreement(order=ended, to_worker_fen=5000, key="case:9:agreement:1") == (
        5000,
        0,
    )
    order.refresh_from_db()
    assert order.amount_fen == order.paid_fen == PAY + 5000
    assert balance(ledger.worker_account(worker)) == PAY + 5000
    assert balance(ledger.employer_account(poor)) == 45_000


@pytest.mark.parametrize("key", ["", None])
def test_an_agreement_settled_without_a_key_is_refused_and_moves_nothing(order, key):
    before = LedgerTransaction.objects.count()
    with pytest.raises(DomainError) as info:
        money.order_settle_by_agreement(order=order, to_worker_fen=100, key=key)
    assert (info.value.field, info.value.message) == ("idempotency_key", "缺少幂等键")
    assert LedgerTransaction.objects.count() == before
