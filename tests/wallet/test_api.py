"""The wallet API: balances, history, withdrawals and top-ups with ``Idempotency-Key`` (same key → the first
answer and one effect; same key with another body → 409), the one error shape, someone else's things as
404, staff endpoints behind wallet.view_account, and the schema documenting it all."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import Employer
from jobs.models import Order
from wallet import ledger
from wallet.models import IdempotencyKey, LedgerTransaction, TopUp, Withdrawal
from wallet.selectors import reconcile

from .conftest import balance, card, credit_worker

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def url(name: str, *args) -> str:
    return reverse(f"api:{name}", args=args)


def withdrawal_body(amount=30_000, seq=5, holder="赵洪亮"):
    return {"amount_fen": amount, "card_number": card(seq), "holder_name": holder}


# -------------------------------------------------------------------------------------------- worker


def test_balance_and_lines_with_their_order(worker, employer, boss, make_order):
    from wallet import services

    services.top_up_create(employer=employer, actor=boss, amount_fen=100_000, key="seed")
    order = make_order(employer, boss, worker)
    api = api_as(worker)
    assert api.get(url("wallet-me")).json() == {"balance_fen": 20_000}
    lines = api.get(url("wallet-me-lines")).json()["results"]
    assert lines[0]["amount_fen"] == 20_000 and lines[0]["kind"] == "release"
    assert lines[0]["order"] == order.pk and lines[0]["post_title"] == "工地招小工"


def test_withdrawal_with_idempotency_key_pays_once_and_replays_the_first_answer(
    worker, django_capture_on_commit_callbacks
):
    credit_worker(worker, 100_000)
    api = api_as(worker)
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(
            url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="wd-000001"
        )
    assert first.status_code == 201
    body = first.json()
    # (in a test the payout runs when the test's transaction would commit, after the answer was built)
    assert body["status"] == "requested" and Withdrawal.objects.get().status == "processed"
    assert body["card_masked"].endswith(card(5)[-4:])
    assert card(5) not in str(body)
    again = api.post(
        url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="wd-000001"
    )
    assert again.status_code == 201 and again.json() == body and again["Idempotent-Replayed"] == "true"
    assert Withdrawal.objects.count() == 1 and balance(ledger.worker_account(worker)) == 70_000

    other = api.post(
        url("wallet-withdrawals"),
        withdrawal_body(amount=10_000),
        format="json",
        HTTP_IDEMPOTENCY_KEY="wd-000001",
    )
    assert other.status_code == 409
    assert other.json() == {
        "code": "idempotency_mismatch",
        "detail": "这个 Idempotency-Key 已用于另一个不同的请求",
        "fields": {"idempotency_key": ["这个 Idempotency-Key 已用于另一个不同的请求"]},
    }
    assert Withdrawal.objects.count() == 1 and reconcile() == []


def test_keys_belong_to_their_caller(worker, other_worker):
    credit_worker(worker, 100_000)
    credit_worker(other_worker, 100_000)
    mine = api_as(worker).post(
        url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="same-key"
    )
    theirs = api_as(other_worker).post(
        url("wallet-withdrawals"),
        withdrawal_body(holder="钱师傅"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="same-key",
    )
    assert mine.status_code == theirs.status_code == 201 and mine.json()["id"] != theirs.json()["id"]


def test_a_refused_request_stores_nothing_and_can_be_sent_again(worker):
    api = api_as(worker)
    refused = api.post(
        url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="retry-key"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_funds"
    assert refused.json()["fields"] == {"amount": ["余额不足：钱包可提现 0.00 元"]}
    assert not IdempotencyKey.objects.exists() and not Withdrawal.objects.exists()
    credit_worker(worker, 100_000)
    accepted = api.post(
        url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="retry-key"
    )
    assert accepted.status_code == 201 and Withdrawal.objects.count() == 1


def test_a_request_still_running_is_not_run_twice_and_an_abandoned_one_is(worker):
    credit_worker(worker, 100_000)
    api = api_as(worker)
    from wallet.idempotency import _digest  # the hash of exactly this request

    class Req:
        method, path, data = "POST", url("wallet-withdrawals"), withdrawal_body()

    record = IdempotencyKey.objects.create(user=worker, key="in-flight", request_hash=_digest(Req))
    busy = api.post(
        url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="in-flight"
    )
    assert busy.status_code == 409 and busy.json()["code"] == "request_in_progress"
    IdempotencyKey.objects.filter(pk=record.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    taken_over = api.post(
        url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="in-flight"
    )
    assert taken_over.status_code == 201 and Withdrawal.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_fen": 12.5}, "amount_fen"),
        ({"amount_fen": "12.50"}, "amount_fen"),
        ({"amount_fen": "1e3"}, "amount_fen"),
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": -100}, "amount_fen"),
        ({"amount_fen": True}, "amount_fen"),
        ({"holder_name": "王五"}, "holder_name"),
        ({"card_number": "12345"}, "card_number"),
    ],
)
def test_withdrawal_bad_input_is_a_400_naming_the_field(worker, body, field):
    credit_worker(worker, 100_000)
    response = api_as(worker).post(url("wallet-withdrawals"), {**withdrawal_body(), **body}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Withdrawal.objects.exists() and balance(ledger.worker_account(worker)) == 100_000


def test_a_malformed_key_is_refused(worker):
    response = api_as(worker).post(
        url("wallet-withdrawals"), withdrawal_body(), format="json", HTTP_IDEMPOTENCY_KEY="short"
    )
    assert response.status_code == 400 and "idempotency_key" in response.json()["fields"]


def test_without_a_key_each_request_is_its_own(worker):
    credit_worker(worker, 100_000)
    api = api_as(worker)
    for _ in range(2):
        assert (
            api.post(url("wallet-withdrawals"), withdrawal_body(amount=10_000), format="json").status_code
            == 201
        )
    assert Withdrawal.objects.count() == 2 and balance(ledger.worker_account(worker)) == 80_000


def test_unverified_worker_cannot_withdraw(alice):
    credit_worker(alice, 10_000)
    response = api_as(alice).post(url("wallet-withdrawals"), withdrawal_body(holder="李爱丽"), format="json")
    assert response.status_code == 403 and response.json()["code"] == "realname_required"


def test_someone_elses_withdrawal_is_404(worker, charlie):
    credit_worker(worker, 100_000)
    created = api_as(worker).post(url("wallet-withdrawals"), withdrawal_body(), format="json").json()
    assert api_as(worker).get(url("wallet-withdrawal", created["id"])).status_code == 200
    assert api_as(charlie).get(url("wallet-withdrawal", created["id"])).status_code == 404
    assert api_as(charlie).get(url("wallet-withdrawals")).json()["results"] == []
    assert api_as(charlie).get(url("wallet-me")).json() == {"balance_fen": 0}


def test_anonymous_gets_401(db):
    assert APIClient().get(url("wallet-me")).status_code == 401
    assert APIClient().post(url("wallet-withdrawals"), withdrawal_body(), format="json").status_code == 401


# ------------------------------------------------------------------------------------------ employer


def test_top_up_with_key_credits_once(boss, employer):
    api = api_as(boss)
    first = api.post(
        url("wallet-top-ups", employer.pk),
        {"amount_fen": 88_800},
        format="json",
        HTTP_IDEMPOTENCY_KEY="tu-000001",
    )
    again = api.post(
        url("wallet-top-ups", employer.pk),
        {"amount_fen": 88_800},
        format="json",
        HTTP_IDEMPOTENCY_KEY="tu-000001",
    )
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert first.json()["status"] == "paid" and first.json()["amount_fen"] == 88_800
    assert LedgerTransaction.objects.filter(kind="top_up").count() == 1
    other = api.post(
        url("wallet-top-ups", employer.pk), {"amount_fen": 1}, format="json", HTTP_IDEMPOTENCY_KEY="tu-000001"
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_mismatch"
    summary = api.get(url("wallet-employer", employer.pk)).json()
    assert summary == {
        "employer": employer.pk,
        "employer_name": "青溪物业服务有限公司",
        "available_fen": 88_800,
        "in_posts_fen": 0,
        "in_orders_fen": 0,
    }
    assert api.get(url("wallet-top-up", first.json()["id"])).json()["status"] == "paid"
    assert [t["id"] for t in api.get(url("wallet-top-ups", employer.pk)).json()["results"]] == [
        first.json()["id"]
    ]
    assert reconcile() == []


@pytest.mark.parametrize("amount", [0, -5, 1.25, "abc", None])
def test_top_up_bad_amount_is_400(boss, employer, amount):
    response = api_as(boss).post(url("wallet-top-ups", employer.pk), {"amount_fen": amount}, format="json")
    assert response.status_code == 400 and "amount_fen" in response.json()["fields"]
    assert not TopUp.objects.exists()


def test_top_up_needs_an_approved_employer(boss, employer):
    Employer.objects.filter(pk=employer.pk).update(status=Employer.Status.SUSPENDED)
    response = api_as(boss).post(url("wallet-top-ups", employer.pk), {"amount_fen": 100}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "employer_not_approved"


def test_another_employers_things_are_404(boss, employer, other_boss):
    created = api_as(boss).post(url("wallet-top-ups", employer.pk), {"amount_fen": 100}, format="json").json()
    api = api_as(other_boss)
    for path in (
        url("wallet-employer", employer.pk),
        url("wallet-employer-lines", employer.pk),
        url("wallet-employer-statement", employer.pk),
        url("wallet-employer-orders", employer.pk),
        url("wallet-top-ups", employer.pk),
        url("wallet-top-up", created["id"]),
    ):
        assert api.get(path).status_code == 404, path
    assert api.post(url("wallet-top-ups", employer.pk), {"amount_fen": 100}, format="json").status_code == 404
    assert TopUp.objects.count() == 1


def test_statement_and_order_payments(boss, employer, worker, make_order):
    api = api_as(boss)
    api.post(url("wallet-top-ups", employer.pk), {"amount_fen": 100_000}, format="json")
    order = make_order(employer, boss, worker, quantity="0.5")
    month = timezone.localdate().strftime("%Y-%m")
    statement = api.get(url("wallet-employer-statement", employer.pk), {"month": month}).json()
    assert (statement["opening_fen"], statement["in_fen"], statement["out_fen"], statement["closing_fen"]) == (
        0, 110_000, 20_000, 90_000,
    )  # fmt: skip
    assert [line["amount_fen"] for line in statement["lines"]] == [100_000, -20_000, 10_000]
    assert statement["lines"][2]["order"] == order.pk
    assert api.get(url("wallet-employer-statement", employer.pk), {"month": "2026-13"}).status_code == 400
    orders = api.get(url("wallet-employer-orders", employer.pk)).json()["results"]
    assert orders == [
        {"order": order.pk, "post_title": "工地招小工", "status": "completed", "worker_name": "赵洪亮",
         "amount_fen": 10_000, "paid_fen": 10_000, "escrow_fen": 0, "owed_fen": 0}
    ]  # fmt: skip
    lines = api.get(url("wallet-employer-lines", employer.pk)).json()["results"]
    assert [line["amount_fen"] for line in lines] == [10_000, -20_000, 100_000]


# --------------------------------------------------------------------------------------------- staff


def test_arrears_and_any_ledger_for_staff_only(books_staff, boss, employer, worker, make_order):
    from tests.factories import UserFactory

    staff = UserFactory(phone="13900000019", role="staff", is_staff=True)  # staff, but not the books
    api_as(boss).post(url("wallet-top-ups", employer.pk), {"amount_fen": 20_000}, format="json")
    order = make_order(employer, boss, worker, quantity="2")  # 400 owed, 200 in escrow, nothing more
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - dt.timedelta(hours=25))
    for user in (staff, boss, worker):
        assert api_as(user).get(url("wallet-arrears")).status_code == 403
    rows = api_as(books_staff).get(url("wallet-arrears")).json()
    assert rows == [
        {
            "order": order.pk, "post_title": "工地招小工", "employer": employer.pk,
            "employer_name": "青溪物业服务有限公司", "contact_name": "陈老板", "contact_phone": "13700001111",
            "worker_name": "赵**", "worker_phone": "136****0101", "amount_fen": 40_000, "paid_fen": 20_000,
            "owed_fen": 20_000, "completed_at": rows[0]["completed_at"],
        }
    ]  # fmt: skip
    assert api_as(books_staff).get(url("wallet-arrears"), {"hours": 48}).json() == []
    assert api_as(books_staff).get(url("wallet-arrears"), {"hours": 0}).status_code == 400

    account = ledger.worker_account(worker)
    assert api_as(staff).get(url("wallet-account-lines", account.pk)).status_code == 403
    detail = api_as(books_staff).get(url("wallet-account", account.pk)).json()
    assert (
        detail["balance_fen"] == 20_000
        and detail["kind"] == "worker"
        and detail["owner"] == "赵** 136****0101"
    )
    lines = api_as(books_staff).get(url("wallet-account-lines", account.pk)).json()["results"]
    assert lines[0]["order"] == order.pk
    assert api_as(books_staff).get(url("wallet-account", 999_999)).status_code == 404


def test_wallet_endpoints_are_documented(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path, method in [
        ("/api/v1/wallet/me/", "get"),
        ("/api/v1/wallet/me/lines/", "get"),
        ("/api/v1/wallet/me/withdrawals/", "post"),
        ("/api/v1/wallet/me/withdrawals/{id}/", "get"),
        ("/api/v1/wallet/employers/{id}/", "get"),
        ("/api/v1/wallet/employers/{id}/statement/", "get"),
        ("/api/v1/wallet/employers/{id}/orders/", "get"),
        ("/api/v1/wallet/employers/{id}/top-ups/", "post"),
        ("/api/v1/wallet/top-ups/{id}/", "get"),
        ("/api/v1/wallet/staff/arrears/", "get"),
        ("/api/v1/wallet/staff/accounts/{id}/lines/", "get"),
    ]:
        assert method in paths[path], path
    for path in ("/api/v1/wallet/me/withdrawals/", "/api/v1/wallet/employers/{id}/top-ups/"):
        post = paths[path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in post["parameters"] if p["in"] == "header"]
        assert {"201", "400", "409"} <= set(post["responses"])
