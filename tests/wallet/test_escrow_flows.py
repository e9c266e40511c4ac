"""Where the money sits along an order's life, through the real jobs services: exact balances of the
employer's account, the post's hold, the order's escrow, the worker's wallet and insurance payable after
every step, and clean books (``reconcile() == []``, every balance summing to zero) after each."""

import datetime as dt

import pytest
import time_machine
from django.db.models import Sum
from django.utils import timezone

from core.errors import Conflict, NotAllowed
from insurance import services as insurance_services
from insurance.payable import payable_balance
from jobs import money as order_money
from jobs import services
from jobs.models import Order, Post
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, UserFactory, verified_seeker
from wallet import ledger
from wallet import services as wallet
from wallet.models import Account, LedgerTransaction
from wallet.selectors import reconcile

pytestmark = pytest.mark.django_db

FUNDS = 1_000_000  # 10,000 yuan on the employer's account
PAY = 25_000  # 250 yuan a day
PREMIUM = 500  # risk class 3 in the default premium table


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def boss(db):
    return UserFactory(phone="13700000001", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    return EmployerFactory(created_by=boss, name="马架龙建筑劳务公司", funds=FUNDS)


@pytest.fixture
def street(db):
    from accounts.models import Area

    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    return AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)


@pytest.fixture
def trade(db):
    return TradeFactory(name="小工", category="construction", risk_class=3)


@pytest.fixture
def worker(db):
    return verified_seeker(phone="13600000001", name="赵洪亮")


@pytest.fixture
def worker2(db):
    return verified_seeker(phone="13600000002", name="钱师傅")


@pytest.fixture
def publish(employer, boss, trade, street):
    def publish(*, slots=2, insured=False, mode="grab", start_in=dt.timedelta(days=2), pay=PAY, who=None):
        start = timezone.now() + start_in
        return services.post_create(
            employer=who or employer, actor=boss, publish=True, trade=trade, title="工地招小工",
            description="搬砖", pay_fen=pay, pay_unit="day", quantity=1, slots=slots, area=street,
            address="工业区8号", lat=28.9, lng=120.03, starts_at=start, ends_at=start + dt.timedelta(hours=9),
            mode=mode, insurance_required=insured, contact_name="陈老板", contact_phone="13700001111",
        )  # fmt: skip

    return publish


def bal(account: Account) -> int:
    return Account.objects.get(pk=account.pk).balance_fen


def money(employer, post, *orders) -> dict[str, int]:
    """The balances that matter, fresh from the database; and the books checked on the way."""
    assert reconcile() == []
    assert Account.objects.aggregate(total=Sum("balance_fen"))["total"] == 0
    state = {
        "employer": bal(ledger.employer_account(employer)),
        "hold": bal(order_money.post_hold(post)),
        "payable": payable_balance(),
    }
    for i, order in enumerate(orders):
        state[f"escrow{i}"] = bal(ledger.order_escrow(order))
        wallet_of = Account.objects.filter(kind=Account.Kind.WORKER, user_id=order.worker_id)
        state[order.worker.phone] = wallet_of.values_list("balance_fen", flat=True).first() or 0
    # Nothing leaves the platform in these flows: what the employer paid in sits in exactly one place.
    assert sum(state.values()) == FUNDS
    return state


def grab(post, worker) -> Order:
    return services.claim_create(post=post, worker=worker).order


def finish(order, worker, *, quantity="1"):
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker)
    with at(order.ends_at):
        services.order_check_out(order=order, worker=worker, quantity=quantity)


W1, W2 = "13600000001", "13600000002"

# ------------------------------------------------------------------------------------------ publish


def test_publish_sets_aside_every_slot(publish, employer):
    post = publish(slots=3)
    assert money(employer, post) == {"employer": FUNDS - 3 * PAY, "hold": 3 * PAY, "payable": 0}


def test_publish_insured_sets_aside_pay_and_premium(publish, employer):
    post = publish(slots=2, insured=True)
    cost = PAY + PREMIUM
    assert money(employer, post) == {"employer": FUNDS - 2 * cost, "hold": 2 * cost, "payable": 0}


def test_publish_without_enough_funds_moves_nothing(publish, boss):
    poor = EmployerFactory(created_by=boss, name="穷公司", funds=30_000)
    before = LedgerTransaction.objects.count()
    with pytest.raises(ledger.InsufficientFunds) as info:
        publish(slots=2, who=poor)
    assert info.value.code == "insufficient_funds"
    assert "需托管500.00元" in info.value.message and "还差200.00元" in info.value.message
    assert not Post.objects.filter(employer=poor).exists()
    assert LedgerTransaction.objects.count() == before
    assert bal(ledger.employer_account(poor)) == 30_000 and reconcile() == []


def test_apply_mode_moves_money_only_when_accepted(publish, employer, boss, worker):
    post = publish(slots=1, mode="apply", insured=True)
    claim = services.claim_create(post=post, worker=worker)
    assert money(employer, post)["hold"] == PAY + PREMIUM
    order = services.claim_accept(claim=claim, actor=boss)
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY - PREMIUM, "hold": 0, "payable": PREMIUM, "escrow0": PAY, W1: 0,
    }  # fmt: skip


# ------------------------------------------------------------------------------------- confirmation


def test_confirmation_moves_pay_to_escrow_and_premium_to_payable(publish, employer, worker, worker2):
    post = publish(slots=2, insured=True)
    o1 = grab(post, worker)
    assert money(employer, post, o1) == {
        "employer": FUNDS - 2 * (PAY + PREMIUM), "hold": PAY + PREMIUM, "payable": PREMIUM, "escrow0": PAY,
        W1: 0,
    }  # fmt: skip
    o2 = grab(post, worker2)
    state = money(employer, post, o1, o2)
    assert (state["hold"], state["payable"], state["escrow0"], state["escrow1"]) == (0, 2 * PREMIUM, PAY, PAY)
    assert o1.policy.premium_fen == PREMIUM


# --------------------------------------------------------------------------------------- completion


@pytest.mark.parametrize(("quantity", "paid", "back"), [("1", PAY, 0), ("0.5", PAY // 2, PAY // 2)])
def test_completion_pays_the_approved_amount_rest_back(publish, employer, boss, worker, quantity, paid, back):
    post = publish(slots=1)
    order = grab(post, worker)
    finish(order, worker)
    with at(order.ends_at + dt.timedelta(hours=1)):
        services.order_confirm_completion(order=order, actor=boss, quantity=quantity)
    order.refresh_from_db()
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY + back, "hold": 0, "payable": 0, "escrow0": 0, W1: paid,
    }  # fmt: skip
    assert order.amount_fen == order.paid_fen == paid and order.settled_at is not None
    # Settling again moves nothing.
    assert order_money.order_release(order=order) == 0
    assert money(employer, post, order)[W1] == paid


def test_larger_quantity_draws_the_excess_from_the_employer(publish, employer, boss, worker):
    post = publish(slots=1)
    order = grab(post, worker)
    finish(order, worker, quantity="1")
    with at(order.ends_at + dt.timedelta(hours=1)):
        services.order_confirm_completion(order=order, actor=boss, quantity="1.5")
    order.refresh_from_db()
    assert order.amount_fen == order.paid_fen == PAY * 3 // 2 and order.settled_at is not None
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY * 3 // 2, "hold": 0, "payable": 0, "escrow0": 0, W1: PAY * 3 // 2,
    }  # fmt: skip


def test_employer_without_funds_leaves_the_excess_owed(publish, boss, worker):
    poor = EmployerFactory(created_by=boss, name="紧巴公司", funds=PAY + 1_000)
    post = publish(slots=1, who=poor)
    order = grab(post, worker)
    finish(order, worker, quantity="1")
    with at(order.ends_at + dt.timedelta(hours=1)):
        services.order_confirm_completion(order=order, actor=boss, quantity="2")
    order.refresh_from_db()
    assert order.amount_fen == 2 * PAY and order.paid_fen == PAY + 1_000 < order.amount_fen
    assert order.settled_at is None and order.status == "completed"
    assert bal(ledger.employer_account(poor)) == 0 and bal(ledger.order_escrow(order)) == 0
    assert bal(ledger.worker_account(worker)) == PAY + 1_000 and reconcile() == []
    # Once the employer tops up, the rest is paid and the order is settled.
    wallet.employer_credit(employer=poor, amount_fen=100_000, key="topup:poor:2")
    assert order_money.order_pay_shortfall(order=order) == 0
    assert order_money.order_pay_shortfall(order=order) == 0  # nothing owed: nothing moves
    order.refresh_from_db()
    assert order.paid_fen == order.amount_fen and order.settled_at is not None
    assert bal(ledger.worker_account(worker)) == 2 * PAY
    assert bal(ledger.employer_account(poor)) == 100_000 - (PAY - 1_000) and reconcile() == []


def test_auto_approval_pays_the_reported_quantity(publish, employer, worker):
    post = publish(slots=1, insured=True)
    order = grab(post, worker)
    finish(order, worker, quantity="0.8")
    with at(order.ends_at + dt.timedelta(hours=24, minutes=1)):
        assert services.orders_auto_approve() == 1
    assert money(employer, post, order) == {
        "employer": FUNDS - PREMIUM - PAY * 4 // 5, "hold": 0, "payable": PREMIUM, "escrow0": 0,
        W1: PAY * 4 // 5,
    }  # fmt: skip


# ------------------------------------------------------------------------------------ cancellations


def test_worker_cancel_returns_escrow_and_premium_to_the_hold(publish, employer, worker, worker2):
    post = publish(slots=1, insured=True)
    order = grab(post, worker)
    services.order_cancel_by_worker(order=order, worker=worker, reason="家里有事")
    start = {"employer": FUNDS - PAY - PREMIUM, "hold": PAY + PREMIUM, "payable": 0, "escrow0": 0, W1: 0}
    assert money(employer, post, order) == start
    # The slot is open again and fully funded: the next worker's 抢单 succeeds.
    o2 = grab(post, worker2)
    assert money(employer, post, order, o2) == {
        **start, "hold": 0, "payable": PREMIUM, "escrow1": PAY, W2: 0,
    }  # fmt: skip


def test_a_refused_policy_then_a_cancel_still_leaves_the_slot_funded(publish, employer, worker, worker2):
    post = publish(slots=1, insured=True)
    order = grab(post, worker)
    # The insurer refuses: the premium goes back to the employer at once (the order goes on uncovered).
    insurance_services.policy_fail(policy=order.policy, reason="保险公司拒保该风险", code="2001")
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY - PREMIUM + PREMIUM, "hold": 0, "payable": 0, "escrow0": PAY, W1: 0,
    }  # fmt: skip
    services.order_cancel_by_worker(order=order, worker=worker)
    # The reopened slot needs pay and premium again: the premium comes from the employer's account.
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY - PREMIUM, "hold": PAY + PREMIUM, "payable": 0, "escrow0": 0, W1: 0,
    }  # fmt: skip
    o2 = grab(post, worker2)
    assert money(employer, post, order, o2)["escrow1"] == PAY


def test_worker_cancel_after_the_post_closed_refunds_the_employer(publish, employer, boss, worker):
    post = publish(slots=2)
    order = grab(post, worker)
    services.post_close(post=post, actor=boss)
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY,
        "hold": 0,
        "payable": 0,
        "escrow0": PAY,
        W1: 0,
    }
    services.order_cancel_by_worker(order=order, worker=worker)
    assert money(employer, post, order) == {"employer": FUNDS, "hold": 0, "payable": 0, "escrow0": 0, W1: 0}


def test_employer_early_cancel_returns_everything_to_the_hold(publish, employer, boss, worker):
    post = publish(slots=1)
    order = grab(post, worker)
    services.order_cancel_by_employer(order=order, actor=boss, reason="工期推迟")
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY,
        "hold": PAY,
        "payable": 0,
        "escrow0": 0,
        W1: 0,
    }


def test_employer_late_cancel_pays_compensation_and_the_slot_stays_funded(
    publish, employer, boss, worker, worker2
):
    post = publish(slots=1, insured=True)
    order = grab(post, worker)
    compensation = 5_000  # 20% of 250 yuan
    with at(order.starts_at - dt.timedelta(hours=3)):
        services.order_cancel_by_employer(order=order, actor=boss, reason="下雨停工")
        order.refresh_from_db()
        assert order.compensation_fen == compensation
        state = money(employer, post, order)
        assert (state[W1], state["escrow0"], state["payable"]) == (compensation, 0, 0)
        # The employer pays the compensation; the reopened slot is funded in full again.
        assert state["hold"] == PAY + PREMIUM and state["employer"] == FUNDS - PAY - PREMIUM - compensation
        o2 = grab(post, worker2)
        assert money(employer, post, order, o2)["escrow1"] == PAY


def test_cancelling_the_post_compensates_late_orders_and_returns_the_rest(
    publish, employer, boss, worker, worker2
):
    post = publish(slots=3, insured=True)
    o1, o2 = grab(post, worker), grab(post, worker2)
    with at(post.starts_at - dt.timedelta(hours=1)):
        services.post_cancel(post=post, actor=boss, reason="项目取消")
    # The policies never began: cancelled, their premiums back to the employer (see tests/insurance).
    assert money(employer, post, o1, o2) == {
        "employer": FUNDS - 2 * 5_000, "hold": 0, "payable": 0, "escrow0": 0,
        "escrow1": 0, W1: 5_000, W2: 5_000,
    }  # fmt: skip


def test_no_show_refunds_the_employer(publish, employer, worker):
    post = publish(slots=2, insured=True)
    order = grab(post, worker)
    insurance_services.policy_issue(policy_id=order.policy.pk)  # the insurer wrote it after confirmation
    with at(order.starts_at + dt.timedelta(minutes=31)):
        assert services.orders_mark_no_show() == 1
        assert services.posts_expire() == 1
    # The cover was bought for the shift: the premium stays with the insurer.
    assert money(employer, post, order) == {
        "employer": FUNDS - PREMIUM, "hold": 0, "payable": PREMIUM, "escrow0": 0, W1: 0,
    }  # fmt: skip


def test_no_show_before_the_policy_was_written_returns_the_premium_too(publish, employer, worker):
    post = publish(slots=1, insured=True)
    order = grab(post, worker)  # the insurer has not answered yet: the policy is still pending
    with at(order.starts_at + dt.timedelta(minutes=31)):
        assert services.orders_mark_no_show() == 1
    order.policy.refresh_from_db()
    assert order.policy.status == "cancelled"
    assert money(employer, post, order) == {"employer": FUNDS, "hold": 0, "payable": 0, "escrow0": 0, W1: 0}


# ------------------------------------------------------------------------------------ the post ends


def test_close_returns_the_unused_hold(publish, employer, boss, worker):
    post = publish(slots=3)
    order = grab(post, worker)
    services.post_close(post=post, actor=boss)
    assert money(employer, post, order) == {
        "employer": FUNDS - PAY, "hold": 0, "payable": 0, "escrow0": PAY, W1: 0,
    }  # fmt: skip


def test_cancel_without_orders_returns_the_hold(publish, employer, boss):
    post = publish(slots=3, insured=True)
    services.post_cancel(post=post, actor=boss, reason="不招了")
    assert money(employer, post) == {"employer": FUNDS, "hold": 0, "payable": 0}


def test_expiry_returns_the_hold_and_reopened_posts_release_again(publish, employer, boss, worker, worker2):
    post = publish(slots=2)
    o1, o2 = grab(post, worker), grab(post, worker2)
    post.refresh_from_db()
    assert post.status == "filled" and money(employer, post, o1, o2)["hold"] == 0
    services.order_cancel_by_worker(order=o2, worker=worker2)  # reopens the post, money back on hold
    assert money(employer, post, o1, o2)["hold"] == PAY
    with at(post.starts_at):
        assert services.posts_expire() == 1
    assert money(employer, post, o1, o2) == {
        "employer": FUNDS - PAY, "hold": 0, "payable": 0, "escrow0": PAY, "escrow1": 0, W1: 0, W2: 0,
    }  # fmt: skip
    finish(o1, worker)
    with at(o1.ends_at + dt.timedelta(hours=25)):
        services.orders_auto_approve()
    assert money(employer, post, o1, o2) == {
        "employer": FUNDS - PAY, "hold": 0, "payable": 0, "escrow0": 0, "escrow1": 0, W1: PAY, W2: 0,
    }  # fmt: skip


# ---------------------------------------------------------------------------------------- disputes


def test_a_disputed_order_keeps_its_escrow(publish, employer, worker):
    post = publish(slots=1)
    order = grab(post, worker)
    stale = Order.objects.get(pk=order.pk)  # a copy read before the dispute
    services.order_mark_disputed(order=order, actor=worker, reason="欠薪")
    before = money(employer, post, order)
    assert before["escrow0"] == PAY
    for call in (
        lambda o: order_money.order_release(order=o),
        lambda o: order_money.order_refund(order=o),
        lambda o: order_money.order_refund(order=o, compensation_fen=1000, back_to_post=True),
    ):
        for copy in (order, stale):
            with pytest.raises(NotAllowed) as info:
                call(copy)
            assert info.value.code == "escrow_held"
    assert money(employer, post, order) == before
    # The jobs transitions refuse too, and the timed rules leave it alone.
    with pytest.raises(Conflict):
        services.order_cancel_by_worker(order=order, worker=worker)
    with at(order.starts_at + dt.timedelta(hours=1)):
        assert services.orders_mark_no_show() == 0
    assert money(employer, post, order) == before
