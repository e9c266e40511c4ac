"""Policies through the real jobs services with the default (fake) insurer: opened at confirmation and paid
from the post's hold, numbered after commit, in force from check-in to check-out; cancelled with the premium
returned when the order ends before check-in; the books clean after every step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from insurance import services as insurance_services
from insurance.models import Policy, PolicyEvent
from insurance.payable import payable_balance
from jobs import money
from jobs import services as jobs_services
from notifications.models import Message
from wallet import ledger
from wallet.models import LedgerTransaction

from .helpers import FUNDS, PAY, PREMIUM, at, bal, books_clean, check_in, check_out, grab, issue

pytestmark = pytest.mark.django_db


def flow(policy: Policy) -> list[tuple[str, str]]:
    return list(PolicyEvent.objects.filter(policy=policy).values_list("from_status", "to_status"))


def test_confirmation_opens_a_pending_policy_paid_from_the_hold(post, worker, employer):
    order = grab(post, worker)
    policy = order.policy
    assert (policy.status, policy.premium_fen, policy.cover_fen, policy.risk_class) == (
        "pending",
        PREMIUM,
        1_000_000_00,
        4,
    )
    assert policy.policy_number == "" and policy.request_no
    assert bal(money.post_hold(post)) == PAY + PREMIUM  # the other slot's money
    assert bal(ledger.order_escrow(order)) == PAY and payable_balance() == PREMIUM
    assert bal(ledger.employer_account(employer)) == FUNDS - 2 * (PAY + PREMIUM)
    assert flow(policy) == [("", "pending")] and books_clean()


def test_the_policy_is_issued_after_commit(post, worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = grab(post, worker)
    policy = Policy.objects.get(order=order)
    assert policy.status == "issued" and policy.policy_number.startswith("GMPA")
    assert policy.insurer == "零工市场测试保险" and policy.issued_at and policy.attempts == 1
    assert flow(policy) == [("", "pending"), ("pending", "issued")]
    sms = Message.objects.get(phone=worker.phone, template="policy_issued", channel="sms")
    assert policy.policy_number in sms.body and "1000000.00元" in sms.body
    # Asking again changes nothing.
    assert issue(order).policy_number == policy.policy_number
    assert PolicyEvent.objects.filter(policy=policy).count() == 2


def test_cover_runs_from_check_in_to_check_out(issued, worker, boss):
    check_in(issued, worker)
    policy = Policy.objects.get(order=issued)
    assert policy.status == "active" and policy.cover_from == issued.starts_at and policy.cover_to is None
    check_out(issued, worker)
    policy.refresh_from_db()
    assert policy.status == "ended" and policy.cover_to == issued.ends_at
    assert flow(policy) == [("", "pending"), ("pending", "issued"), ("issued", "active"), ("active", "ended")]
    with at(issued.ends_at):
        jobs_services.order_confirm_completion(order=issued, actor=boss, quantity="1")
    # The premium stays with the insurer; the pay went to the worker.
    assert payable_balance() == PREMIUM and bal(ledger.worker_account(worker)) == PAY
    assert books_clean()


def test_a_policy_numbered_after_check_in_takes_the_right_status(order, worker):
    check_in(order, worker)
    policy = Policy.objects.get(order=order)
    assert policy.status == "pending" and policy.cover_from == order.starts_at
    issue(order)
    policy.refresh_from_db()
    assert policy.status == "active" and policy.policy_number
    check_out(order, worker)
    policy.refresh_from_db()
    assert policy.status == "ended"


def test_worker_cancel_while_the_post_takes_claims_returns_the_premium_to_the_hold(issued, worker, post):
    jobs_services.order_cancel_by_worker(order=issued, worker=worker, reason="家里有事")
    policy = Policy.objects.get(order=issued)
    assert policy.status == "cancelled" and policy.cancelled_at
    assert bal(money.post_hold(post)) == 2 * (PAY + PREMIUM)  # the reopened slot is fully funded again
    assert payable_balance() == 0 and books_clean()
    refund = LedgerTransaction.objects.get(idempotency_key=f"order:{issued.pk}:premium-refund")
    assert refund.kind == "refund" and refund.order_id == issued.pk


def test_employer_cancelling_the_post_returns_the_premium_to_the_employer(publish, worker, boss, employer):
    post = publish(slots=1)
    order = grab(post, worker)
    issue(order)
    jobs_services.post_cancel(post=post, actor=boss, reason="项目取消")
    policy = Policy.objects.get(order=order)
    assert policy.status == "cancelled"
    assert bal(ledger.employer_account(employer)) == FUNDS  # pay, premium and the hold all back
    assert payable_balance() == 0 and books_clean()


def test_employer_cancel_on_a_filled_post_returns_the_premium_to_the_employer(
    publish, worker, boss, employer
):
    post = publish(slots=1)
    order = grab(post, worker)
    with at(order.starts_at - dt.timedelta(hours=1)):  # too late for the slot to reopen; late compensation
        jobs_services.order_cancel_by_employer(order=order, actor=boss, reason="工程延期")
    order.refresh_from_db()
    policy = Policy.objects.get(order=order)
    assert policy.status == "cancelled" and order.compensation_fen > 0
    assert payable_balance() == 0
    assert (
        bal(ledger.employer_account(employer)) + bal(money.post_hold(post)) == FUNDS - order.compensation_fen
    )
    assert books_clean()


def test_a_policy_cancelled_twice_refunds_once(issued, worker, post):
    jobs_services.order_cancel_by_worker(order=issued, worker=worker)
    again = insurance_services.policy_cancel_for_order(order=issued, back_to_post=True, reason="重复")
    assert again.status == "cancelled"
    assert LedgerTransaction.objects.filter(idempotency_key__endswith="premium-refund").count() == 1
    assert payable_balance() == 0 and books_clean()


def test_no_show_ends_an_issued_policy_and_the_premium_is_earned(issued, employer):
    with at(issued.starts_at + dt.timedelta(minutes=31)):
        assert jobs_services.orders_mark_no_show() == 1
    policy = Policy.objects.get(order=issued)
    assert policy.status == "ended" and policy.cover_from is None
    assert payable_balance() == PREMIUM and books_clean()


def test_no_show_before_the_number_came_cancels_and_refunds(order, employer):
    with at(order.starts_at + dt.timedelta(minutes=31)):
        assert jobs_services.orders_mark_no_show() == 1
    assert Policy.objects.get(order=order).status == "cancelled"
    assert payable_balance() == 0 and books_clean()
    # The number arriving late does not revive it.
    assert issue(order).status == "cancelled"


def test_cancelled_while_the_insurer_was_writing_it_is_taken_back(order, worker, monkeypatch):
    from insurance import backends

    def issue_then_cancel(self, request):
        # The order is cancelled (and committed) while the insurer call is in flight.
        jobs_services.order_cancel_by_worker(order=order, worker=worker)
        return backends.Issued("LATE123", "测试保险")

    calls = []
    monkeypatch.setattr(backends.FakeInsurer, "issue", issue_then_cancel)
    monkeypatch.setattr(backends.FakeInsurer, "cancel", lambda self, **kw: calls.append(kw))
    policy = issue(order)
    policy.refresh_from_db()
    assert policy.status == "cancelled" and policy.policy_number == "LATE123"
    assert payable_balance() == 0 and books_clean()


def test_overdue_cover_ends_with_the_planned_end(working):
    assert insurance_services.policies_end_overdue(now=working.ends_at + dt.timedelta(hours=1)) == 0
    assert insurance_services.policies_end_overdue(now=working.ends_at + dt.timedelta(hours=13)) == 1
    policy = Policy.objects.get(order=working)
    assert policy.status == "ended" and policy.cover_to == working.ends_at


def test_pending_policies_are_asked_again(order, settings):
    assert insurance_services.policies_retry_pending(now=timezone.now()) == 0  # too fresh
    assert insurance_services.policies_retry_pending(now=timezone.now() + dt.timedelta(minutes=6)) == 1
    assert Policy.objects.get(order=order).status == "issued"  # eager here: the task ran
