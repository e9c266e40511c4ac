"""The http insurer backend against a local fake insurer (a real HTTP server on loopback): signed requests
carrying order, insured, cover period, class and premium; a policy number back; refusals fail the policy and
return the premium; outages, throttling and untrustworthy answers leave it pending and are retried."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from celery.exceptions import Retry

from insurance import services as insurance_services
from insurance import tasks
from insurance.backends import HttpInsurer, InsurerUnavailable
from insurance.models import Policy
from insurance.payable import payable_balance
from jobs import services as jobs_services
from notifications.models import Message
from wallet import ledger

from .helpers import FUNDS, PAY, PREMIUM, bal, books_clean, grab, issue

pytestmark = pytest.mark.django_db


def test_issue_sends_a_signed_request_and_stores_the_number(insurer, order, worker):
    policy = issue(order)
    assert policy.status == "issued" and policy.policy_number.startswith("PICC")
    assert policy.insurer == "测试财产保险公司"
    path, body = insurer.calls[0]
    sent = json.loads(body)
    assert path == "/api/v2/policies"
    assert sent["request_no"] == str(policy.request_no) and sent["order_no"] == f"GM{order.pk:010d}"
    assert sent["insured"]["name"] == worker.realname.name
    assert sent["insured"]["id_number"] == worker.realname.id_number  # the insurer must know whom it covers
    assert sent["occupation"] == {"trade": "架子工", "risk_class": 4}
    assert (sent["premium_fen"], sent["sum_insured_fen"]) == (PREMIUM, 1_000_000_00)
    assert sent["cover_start"].startswith(f"{order.starts_at.astimezone().date():%Y-%m-%d}")
    assert sent["policyholder"]["name"] == "马架龙建筑劳务公司"


def test_a_retried_request_gets_the_same_policy(insurer, order):
    backend = HttpInsurer()
    request = insurance_services._issue_request(Policy.objects.get(order=order))
    assert backend.issue(request).policy_number == backend.issue(request).policy_number
    assert len(insurer.policies) == 1


def test_insurer_refusal_fails_the_policy_and_refunds_the_premium(insurer, post, worker, employer, caplog):
    insurer.mode = "decline"
    order = grab(post, worker)
    policy = issue(order)
    assert policy.status == "failed" and policy.failed_at and "拒保" in policy.last_error
    assert "2001" in policy.last_error and policy.policy_number == ""
    # The premium went back to the employer; the order's pay stays in escrow (the order goes on).
    assert payable_balance() == 0 and bal(ledger.order_escrow(order)) == PAY
    assert bal(ledger.employer_account(employer)) == FUNDS - 2 * (PAY + PREMIUM) + PREMIUM
    assert books_clean()
    owner_sms = Message.objects.get(template="policy_failed", channel="sms")
    assert owner_sms.phone == "13700000001" and "6.00元已退回" in owner_sms.body
    assert worker.realname.id_number not in caplog.text
    # A failed policy is final: asking again changes nothing.
    assert issue(order).status == "failed" and len(insurer.calls) == 1


@pytest.mark.parametrize("mode", ["down", "busy", "garbage", "unsigned", "wrong_key"])
def test_untrustworthy_or_missing_answers_leave_it_pending(insurer, order, mode):
    insurer.mode = mode
    with pytest.raises(InsurerUnavailable):
        issue(order)
    policy = Policy.objects.get(order=order)
    assert policy.status == "pending" and policy.attempts == 1 and policy.last_error
    assert payable_balance() == PREMIUM and books_clean()
    insurer.mode = "normal"
    assert issue(order).status == "issued"


def test_our_wrong_key_is_not_a_refusal(insurer, order, settings):
    settings.INSURER_KEY = "not-the-key"
    with pytest.raises(InsurerUnavailable):
        issue(order)
    assert Policy.objects.get(order=order).status == "pending"


def test_unreachable_insurer_is_retried(settings, order):
    settings.INSURER_BACKEND = "http"
    settings.INSURER_URL, settings.INSURER_KEY, settings.INSURER_TIMEOUT = "http://127.0.0.1:9/api", "k", 0.5
    with pytest.raises(InsurerUnavailable):
        issue(order)
    assert Policy.objects.get(order=order).last_error == "保险公司接口暂时无法连接"


def test_the_task_retries_with_backoff_on_a_transport_error(insurer, order):
    insurer.mode = "down"
    policy = Policy.objects.get(order=order)
    with (
        mock.patch.object(tasks.issue_policy, "retry", side_effect=Retry()) as retry,
        pytest.raises(Retry),
    ):
        tasks.issue_policy.run(policy.pk)
    assert retry.call_args.kwargs["countdown"] == 30
    assert isinstance(retry.call_args.kwargs["exc"], InsurerUnavailable)
    # A refusal is not retried: it is final.
    insurer.mode = "decline"
    with mock.patch.object(tasks.issue_policy, "retry") as retry:
        tasks.issue_policy.run(policy.pk)
    retry.assert_not_called()
    assert Policy.objects.get(pk=policy.pk).status == "failed"


def test_cancelling_an_issued_policy_tells_the_insurer(
    insurer, order, worker, django_capture_on_commit_callbacks
):
    number = issue(order).policy_number
    with django_capture_on_commit_callbacks(execute=True):
        jobs_services.order_cancel_by_worker(order=order, worker=worker)
    policy = Policy.objects.get(order=order)
    assert policy.status == "cancelled" and policy.insurer_cancelled_at is not None
    assert insurer.cancelled == [(number, f"{policy.request_no}-cancel")]


def test_an_undelivered_cancel_is_kept_for_retry(insurer, order, worker):
    issue(order)
    jobs_services.order_cancel_by_worker(order=order, worker=worker)
    insurer.mode = "down"
    policy = Policy.objects.get(order=order)
    with pytest.raises(InsurerUnavailable):
        insurance_services.policy_insurer_cancel(policy_id=policy.pk)
    policy.refresh_from_db()
    assert policy.insurer_cancelled_at is None and "退保通知未送达" in policy.last_error
    insurer.mode = "normal"
    assert insurance_services.policy_insurer_cancel(policy_id=policy.pk).insurer_cancelled_at is not None
