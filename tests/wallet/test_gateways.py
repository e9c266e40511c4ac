"""The http payment gateway backend against a local fake gateway (a real HTTP server on loopback):
signed requests both ways, payment notifications (bad signature, stale, replayed, repeated, wrong amount),
payouts mapped to processed / failed (with the reversal) / retry, transport errors, expiry. The books
reconcile after every scenario."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from wallet import ledger, services
from wallet.gateways import FakeGateway, GatewayUnavailable, HttpGateway
from wallet.models import LedgerTransaction, TopUp, Withdrawal
from wallet.selectors import reconcile

from .conftest import KEY, balance, card, credit_worker, notification

pytestmark = pytest.mark.django_db

NOTIFY = "/wallet/notify/"


def start_top_up(employer, boss, amount=50_000, key="k1"):
    return services.top_up_create(
        employer=employer,
        actor=boss,
        amount_fen=amount,
        key=key,
        notify_url="https://gig.example/wallet/notify/",
    )


def post_notification(client, body, headers):
    return client.post(NOTIFY, data=body, content_type="application/json", **headers)


# ------------------------------------------------------------------------------------------ top-ups


def test_create_payment_is_signed_and_answers_a_pay_link(paygate, employer, boss):
    top_up = start_top_up(employer, boss)
    assert top_up.status == TopUp.Status.PENDING and top_up.gateway == "http"
    assert top_up.pay_url == f"weixin://wxpay/bizpayurl?pr={top_up.out_trade_no}"
    method, path, body = paygate.calls[0]
    sent = json.loads(body)
    assert (method, path) == ("POST", "/v3/pay/transactions/native")
    assert sent["amount"] == {"total": 50_000, "currency": "CNY"} and sent["mchid"] == "1900000109"
    assert sent["notify_url"] == "https://gig.example/wallet/notify/"
    assert balance(ledger.employer_account(employer)) == 0  # nothing until the money arrives


def test_wrong_key_is_refused_by_the_gateway_and_its_answer_not_believed(paygate):
    gateway = HttpGateway(key="not-the-key")
    with pytest.raises(GatewayUnavailable):
        gateway.create_payment(
            out_trade_no="T1", amount_fen=100, description="x", notify_url="", expires_at=timezone.now()
        )


def test_notification_credits_once_and_repeats_move_nothing(paygate, employer, boss, client):
    top_up = start_top_up(employer, boss)
    body, headers = notification(top_up.out_trade_no, amount=50_000)
    response = post_notification(client, body, headers)
    assert response.status_code == 200 and response.json()["code"] == "SUCCESS"
    top_up.refresh_from_db()
    assert top_up.status == TopUp.Status.PAID and top_up.gateway_ref == f"42000{top_up.out_trade_no}"
    assert balance(ledger.employer_account(employer)) == 50_000

    # The gateway notifies again (a new nonce, as gateways do when our answer was lost): nothing moves.
    body, headers = notification(top_up.out_trade_no, amount=50_000)
    assert post_notification(client, body, headers).status_code == 200
    assert balance(ledger.employer_account(employer)) == 50_000
    assert LedgerTransaction.objects.filter(kind="top_up").count() == 1
    assert list(top_up.events.values_list("to_status", flat=True)) == ["pending", "paid"]
    assert reconcile() == []


def test_bad_signature_stale_and_replayed_notifications_are_refused(paygate, employer, boss, client):
    top_up = start_top_up(employer, boss)
    body, headers = notification(top_up.out_trade_no, amount=50_000, key="forged-key")
    response = post_notification(client, body, headers)
    assert response.status_code == 401 and response.json()["code"] == "FAIL"

    tampered, headers = notification(top_up.out_trade_no, amount=50_000)
    response = post_notification(client, tampered.replace(b"50000", b"90000"), headers)
    assert response.status_code == 401

    body, headers = notification(top_up.out_trade_no, amount=50_000, timestamp=int(time.time()) - 3600)
    assert post_notification(client, body, headers).status_code == 400

    assert balance(ledger.employer_account(employer)) == 0
    top_up.refresh_from_db()
    assert top_up.status == TopUp.Status.PENDING

    body, headers = notification(top_up.out_trade_no, amount=50_000, nonce="n" * 32)
    assert post_notification(client, body, headers).status_code == 200
    # The very same message again (a replay): refused before anything is read.
    response = post_notification(client, body, headers)
    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert balance(ledger.employer_account(employer)) == 50_000
    assert reconcile() == []


def test_notification_with_another_amount_or_unknown_order_moves_nothing(paygate, employer, boss, client):
    top_up = start_top_up(employer, boss)
    body, headers = notification(top_up.out_trade_no, amount=1)
    assert post_notification(client, body, headers).status_code == 409
    body, headers = notification("T-NOT-OURS", amount=50_000)
    assert post_notification(client, body, headers).status_code == 400
    top_up.refresh_from_db()
    assert top_up.status == TopUp.Status.PENDING and "不符" in top_up.last_error
    assert balance(ledger.employer_account(employer)) == 0 and reconcile() == []


def test_failed_payment_notification_closes_the_top_up(paygate, employer, boss, client):
    top_up = start_top_up(employer, boss)
    body, headers = notification(top_up.out_trade_no, amount=50_000, state="PAYERROR")
    assert post_notification(client, body, headers).status_code == 200
    top_up.refresh_from_db()
    assert top_up.status == TopUp.Status.FAILED and balance(ledger.employer_account(employer)) == 0


def test_notify_endpoint_needs_no_session_or_csrf_token(paygate, employer, boss):
    from django.test import Client

    top_up = start_top_up(employer, boss)
    body, headers = notification(top_up.out_trade_no, amount=50_000)
    response = Client(enforce_csrf_checks=True).post(
        reverse("wallet:notify"), data=body, content_type="application/json", **headers
    )
    assert response.status_code == 200


def test_fake_gateway_has_no_notification_endpoint(client, db):
    body, headers = notification("T1", amount=100)
    assert post_notification(client, body, headers).status_code == 404


def test_transport_error_leaves_the_top_up_pending_and_a_retry_finishes_it(paygate, employer, boss):
    paygate.mode = "down"
    with pytest.raises(services.GatewayDown):
        start_top_up(employer, boss, key="retry-me")
    top_up = TopUp.objects.get(idempotency_key="retry-me")
    assert top_up.status == TopUp.Status.PENDING and top_up.pay_url == "" and top_up.last_error
    paygate.mode = "normal"
    again = start_top_up(employer, boss, key="retry-me")
    assert again.pk == top_up.pk and again.pay_url.startswith("weixin://")
    assert TopUp.objects.count() == 1


def test_expiry_asks_the_gateway_first(paygate, employer, boss):
    unpaid = start_top_up(employer, boss, key="a")
    paid_quietly = start_top_up(employer, boss, amount=70_000, key="b")
    paygate.orders[paid_quietly.out_trade_no]["state"] = "SUCCESS"  # its notification never came
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        assert services.top_ups_expire() == 2
    unpaid.refresh_from_db()
    paid_quietly.refresh_from_db()
    assert unpaid.status == TopUp.Status.EXPIRED
    assert paygate.orders[unpaid.out_trade_no]["state"] == "CLOSED"  # closed at the gateway too
    assert paid_quietly.status == TopUp.Status.PAID
    assert balance(ledger.employer_account(employer)) == 70_000 and reconcile() == []


def test_a_late_payment_of_an_expired_top_up_is_still_credited(paygate, employer, boss, client):
    top_up = start_top_up(employer, boss)
    services.top_up_close(top_up=top_up, status=TopUp.Status.EXPIRED, reason="超时未支付")
    body, headers = notification(top_up.out_trade_no, amount=50_000)
    assert post_notification(client, body, headers).status_code == 200
    top_up.refresh_from_db()
    assert top_up.status == TopUp.Status.PAID and balance(ledger.employer_account(employer)) == 50_000


def test_an_unsafe_pay_link_is_not_shown(paygate, employer, boss, monkeypatch):
    from wallet.gateways import Payment

    monkeypatch.setattr(
        HttpGateway, "create_payment", lambda self, **kw: Payment("pending", pay_url="javascript:x")
    )
    with pytest.raises(services.GatewayDown):
        start_top_up(employer, boss)
    assert TopUp.objects.get().pay_url == ""


# ------------------------------------------------------------------------------------------ payouts


def withdraw(worker, amount=30_000, key="w1", seq=1):
    return services.withdrawal_request(
        worker=worker, amount_fen=amount, card_number=card(seq), holder_name=worker.realname.name, key=key
    )


@pytest.fixture
def earned(worker):
    credit_worker(worker, 100_000)
    return ledger.worker_account(worker)


def test_payout_success_moves_clearing_to_the_bank(
    paygate, worker, earned, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(worker)
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PROCESSED and withdrawal.gateway_ref.startswith("T")
    sent = paygate.transfers[withdrawal.out_trade_no]
    assert sent["card_number"] == card(1) and sent["holder_name"] == "赵洪亮" and sent["amount"] == 30_000
    assert balance(earned) == 70_000 and balance(ledger.clearing()) == 0
    assert reconcile() == []


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("FAIL:ACCOUNT_NAME_MISMATCH", "持卡人姓名与银行卡不符"), ("ERROR:400:PARAM_ERROR", "提现信息有误")],
)
def test_payout_failure_is_failed_and_reversed_to_the_wallet(
    paygate, worker, earned, django_capture_on_commit_callbacks, mode, reason
):
    paygate.payout_mode = mode
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(worker)
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.FAILED and reason in withdrawal.failure_reason
    assert balance(earned) == 100_000 and balance(ledger.clearing()) == 0
    kinds = list(LedgerTransaction.objects.filter(memo__contains="提现").values_list("kind", flat=True))
    assert sorted(kinds) == ["withdrawal", "withdrawal_reversal"]
    assert reconcile() == []


@pytest.mark.parametrize(
    "setup",
    [
        lambda gate: setattr(gate, "payout_mode", "PROCESSING"),
        lambda gate: setattr(gate, "mode", "down"),
        lambda gate: setattr(gate, "mode", "bad_answer_signature"),
        lambda gate: setattr(gate, "mode", "garbage"),
        lambda gate: setattr(gate, "payout_mode", "ERROR:403:NOT_ENOUGH"),
        lambda gate: setattr(gate, "payout_mode", "ERROR:429:FREQUENCY_LIMITED"),
    ],
    ids=["processing", "5xx", "bad-answer-signature", "unreadable", "merchant-short", "rate-limited"],
)
def test_unknown_outcome_is_retried_later_and_nothing_reversed(
    paygate, worker, earned, django_capture_on_commit_callbacks, setup
):
    setup(paygate)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(worker)
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REQUESTED and withdrawal.attempts == 1
    assert withdrawal.next_attempt_at > timezone.now()
    assert balance(earned) == 70_000 and balance(ledger.clearing()) == 30_000  # held, not reversed
    assert reconcile() == []

    paygate.mode, paygate.payout_mode = "normal", "SUCCESS"
    assert services.withdrawals_retry() == 0  # not due yet
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert services.withdrawals_retry() == 1
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PROCESSED and balance(ledger.clearing()) == 0
    assert reconcile() == []


def test_unreachable_gateway_is_a_retry(settings, worker, earned, django_capture_on_commit_callbacks):
    settings.PAYMENT_GATEWAY = "http"
    settings.PAYMENT_GATEWAY_URL = "http://127.0.0.1:9"
    settings.PAYMENT_GATEWAY_MERCHANT_ID = "1900000109"
    settings.PAYMENT_GATEWAY_KEY = KEY
    settings.PAYMENT_GATEWAY_TIMEOUT = 0.5
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(worker)
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REQUESTED and withdrawal.attempts == 1
    assert balance(earned) == 70_000 and reconcile() == []


def test_a_settled_withdrawal_is_not_paid_twice(paygate, worker, earned, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(worker)
    calls = len(paygate.calls)
    services.withdrawal_pay(withdrawal_id=withdrawal.pk)  # a duplicate task delivery
    assert len(paygate.calls) == calls and balance(ledger.bank()) == -70_000
    assert reconcile() == []


def test_fake_gateway_pays_and_payouts_at_once():
    gateway = FakeGateway()
    assert (
        gateway.create_payment(
            out_trade_no="T1", amount_fen=5, description="", notify_url="", expires_at=timezone.now()
        ).state
        == "paid"
    )
    assert (
        gateway.payout(out_trade_no="W1", amount_fen=5, card_number="1", holder_name="x").status
        == "processed"
    )


def test_card_number_never_reaches_the_log(
    paygate, worker, earned, caplog, django_capture_on_commit_callbacks
):
    paygate.mode = "down"
    with caplog.at_level("DEBUG"), django_capture_on_commit_callbacks(execute=True):
        withdraw(worker)
    assert caplog.records and card(1) not in caplog.text and card(1)[-8:] not in caplog.text
