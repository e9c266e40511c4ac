"""The rules-aware reconciliation (jobs/reconcile.py, ``manage.py reconcile_orders``, the nightly task): it
passes on books the services wrote, and names each breach the ledger-only check (``reconcile_ledger``)
cannot see, because every posting still balances."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from jobs import money, reconcile, services
from jobs.models import Order, Post
from notifications.models import Message
from tests.factories import EmployerFactory, PostFactory, UserFactory
from wallet import ledger
from wallet import services as wallet
from wallet.selectors import reconcile as reconcile_ledger

pytestmark = pytest.mark.django_db


def at(moment):
    return time_machine.travel(moment, tick=False)


def checks() -> set[str]:
    return {p.check for p in reconcile.reconcile_orders()}


@pytest.fixture
def done(post, worker, boss):
    """A completed order (1 day, paid from escrow) and a cancelled one, as the services leave them."""
    order = services.claim_create(post=post, worker=worker).order
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker)
    with at(order.ends_at):
        services.order_check_out(order=order, worker=worker, quantity="1")
        services.order_confirm_completion(order=order, actor=boss, quantity="1")
    return order


def test_books_written_by_the_services_pass_and_owed_wages_are_listed(done, worker2, boss, trade, street):
    poor = EmployerFactory(created_by=boss, name="小本经营", funds=0)
    wallet.employer_credit(employer=poor, amount_fen=20000, key="t:fund")
    post = PostFactory(employer=poor, trade=trade, area=street, slots=1)
    order = services.claim_create(post=post, worker=worker2).order
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker2)
    with at(order.ends_at):
        services.order_check_out(order=order, worker=worker2, quantity="1")
        services.order_confirm_completion(order=order, actor=boss, quantity="2")  # 200 元 owed
    assert reconcile.reconcile_orders() == []
    out = StringIO()
    call_command("reconcile_orders", stdout=out)
    assert f"欠薪 订单{order.pk} 小本经营 欠 200.00 元" in out.getvalue() and "对账通过" in out.getvalue()


def test_pay_beyond_the_rules_is_a_breach_the_ledger_check_misses(done, worker):
    """The issue's first case, written straight into the books: an auto-approval paying 10000 days."""
    Order.objects.filter(pk=done.pk).update(auto_approved=True, approved_quantity=251, amount_fen=251 * 20000)
    ledger.transfer(
        key="t:overpay", kind="release", order=done, memo="超额结算",
        legs=[(ledger.employer_account(done.employer), -250 * 20000), (ledger.worker_account(worker), 250 * 20000)],
    )  # fmt: skip
    assert reconcile_ledger() == []  # every posting balances
    assert {"paid_matches_ledger", "auto_approval_within_escrow"} <= checks()
    with pytest.raises(CommandError):
        call_command("reconcile_orders", stdout=StringIO(), stderr=StringIO())


def test_hold_left_on_an_ended_post_is_a_breach(post):
    Post.objects.filter(pk=post.pk).update(status="cancelled")
    assert reconcile_ledger() == []
    assert "no_hold_on_ended_post" in checks()


def test_hidden_post_past_its_start_still_holding_is_a_breach(post):
    services.post_hide_for_review(post=post, actor=None)
    assert reconcile.reconcile_orders() == []
    with at(post.starts_at + dt.timedelta(hours=2)):
        assert "no_hold_on_ended_post" in checks()
        services.posts_expire()
        assert reconcile.reconcile_orders() == []


def test_pending_policy_on_an_ended_order_is_a_breach(employer, trade, street, worker):
    post = PostFactory(employer=employer, trade=trade, area=street, insurance_required=True, slots=1)
    order = services.claim_create(post=post, worker=worker).order
    assert reconcile.reconcile_orders() == []
    Order.objects.filter(pk=order.pk).update(status="cancelled", cancelled_by="worker")
    money.order_refund(order=Order.objects.get(pk=order.pk), reason="t")  # the money, not the policy
    order.policy.__class__.objects.filter(pk=order.policy.pk).update(status="pending")
    assert "policy_matches_order" in checks()


def test_owed_wages_beside_money_on_the_account_is_a_breach_and_the_nightly_run_pays_them(
    done, boss, worker, settings
):
    Order.objects.filter(pk=done.pk).update(approved_quantity=2, amount_fen=40000)  # 200 元 more confirmed
    assert "owed_wages_paid_first" in checks()  # the employer has money: it should have been paid
    staff = UserFactory(phone="13900000077", name="钱会计", role="staff", is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_account", content_type__app_label="wallet")
    )
    problems = reconcile.nightly()
    done.refresh_from_db()
    assert done.paid_fen == 40000 and done.settled_at is not None
    assert problems == [] and not Message.objects.filter(template="reconcile_alert").exists()


def test_nightly_run_alerts_staff_who_see_the_books_once_a_day(post):
    staff = UserFactory(phone="13900000077", name="钱会计", role="staff", is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_account", content_type__app_label="wallet")
    )
    other = UserFactory(phone="13900000078", name="别的工作人员", role="staff", is_staff=True)
    Post.objects.filter(pk=post.pk).update(status="expired")
    assert len(reconcile.nightly()) == 1
    assert len(reconcile.nightly()) == 1
    alerts = Message.objects.filter(template="reconcile_alert")
    assert [m.recipient for m in alerts] == [staff] and other not in [m.recipient for m in alerts]
    assert alerts.get().channel == "inapp" and "对账发现1个问题" in alerts.get().body


def test_the_nightly_run_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["jobs-reconcile-orders"]
    assert entry["task"] == "jobs.tasks.reconcile_orders_nightly"
    from gigmarket.celery import app

    app.loader.import_default_modules()
    assert "jobs.tasks.reconcile_orders_nightly" in app.tasks
