"""Premium remittance: premiums wait in per-day, sharded payable accounts; the daily settlement pays the
earned ones to the insurer through the gateway, books it once, sends the statement, retries what failed,
and the ledger still reconciles (collected = remitted + payable)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from insurance import remittance
from insurance.backends import InsurerUnavailable
from insurance.models import Policy, Remittance
from insurance.payable import PAYABLE_SHARDS, payable_balance, premium_account_of
from jobs import services as jobs_services
from wallet import ledger
from wallet.gateways import Payout
from wallet.models import Account, LedgerTransaction
from wallet.selectors import reconcile

from .helpers import PREMIUM, at, bal, books_clean, check_in, grab, issue

pytestmark = pytest.mark.django_db


class Gateway:
    """The payment gateway's answers to the remittance's payout, in order (the last one repeats)."""

    def __init__(self, *answers: Payout):
        self.answers, self.calls = list(answers), []

    def payout(self, **kwargs):
        self.calls.append(kwargs)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def gateway(monkeypatch):
    def use(*answers):
        fake = Gateway(*answers)
        monkeypatch.setattr(remittance, "get_gateway", lambda: fake)
        return fake

    return use


def on_site(post, worker):
    order = grab(post, worker)
    issue(order)
    check_in(order, worker)
    order.refresh_from_db()
    return order


def today_after(order) -> dt.date:
    """The local day of the order's check-in; the settlement runs once it is over."""
    return timezone.localdate(order.starts_at)


def settle(day):
    with at(timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1, 30)))):
        return remittance.remit_day(day=day)


def test_premium_goes_to_the_days_shard(order):
    account = premium_account_of(order=order)
    assert account.period == timezone.localdate() and account.shard == order.pk % PAYABLE_SHARDS
    assert bal(account) == PREMIUM == payable_balance()
    assert not Account.objects.filter(
        kind="insurance_payable", period__isnull=True, balance_fen__gt=0
    ).exists()


def test_orders_of_a_day_spread_over_shards(publish, worker, worker2):
    post = publish(slots=2)
    a, b = grab(post, worker), grab(post, worker2)
    assert premium_account_of(order=a).pk != premium_account_of(order=b).pk  # consecutive pks, other shards
    assert payable_balance() == 2 * PREMIUM and books_clean()


def test_daily_settlement_pays_the_insurer_once_and_books_reconcile(publish, worker, worker2, gateway):
    paid = gateway(Payout("processed", gateway_ref="GW123"))
    post = publish(slots=2)
    working = on_site(post, worker)
    waiting = grab(post, worker2)  # confirmed, cover not begun: its premium may still come back
    day = today_after(working)

    r = settle(day)
    assert (r.status, r.policy_count, r.amount_fen) == ("settled", 1, PREMIUM)
    assert list(r.policies.values_list("pk", flat=True)) == [working.policy.pk]
    assert paid.calls[0]["out_trade_no"] == f"GMPR{day:%Y%m%d}" and paid.calls[0]["amount_fen"] == PREMIUM
    assert r.transaction.kind == LedgerTransaction.Kind.PREMIUM_REMITTANCE and r.statement_ref
    assert payable_balance() == PREMIUM  # the waiting order's premium stays
    assert bal(ledger.bank()) < 0 and books_clean()
    call_command("reconcile_ledger")  # exits non-zero on any problem

    again = settle(day)  # beat twice, a retry, a second worker: nothing more moves
    assert again.pk == r.pk and len(paid.calls) == 1
    assert LedgerTransaction.objects.filter(kind="premium_remittance").count() == 1

    # The waiting order is cancelled after the settlement: its premium goes back from its own account.
    jobs_services.order_cancel_by_worker(order=waiting, worker=worker2, reason="家里有事")
    waiting.policy.refresh_from_db()
    assert waiting.policy.status == Policy.Status.CANCELLED and payable_balance() == 0 and books_clean()


def test_a_policy_earned_later_goes_with_the_next_day(publish, worker, worker2, gateway):
    gateway(Payout("processed", gateway_ref="GW1"))
    first = on_site(publish(slots=1), worker)
    day = today_after(first)
    settle(day)
    second = on_site(publish(slots=1, start_in=dt.timedelta(days=3)), worker2)
    r = settle(today_after(second))
    assert list(r.policies.values_list("pk", flat=True)) == [second.policy.pk]
    assert payable_balance() == 0 and books_clean()


def test_a_refused_payment_fails_visibly_and_staff_pay_again(working, gateway, reviewer):
    gateway(Payout("failed", reason="收款账户名不符"), Payout("processed", gateway_ref="GW9"))
    r = settle(today_after(working))
    assert r.status == "failed" and "收款账户名不符" in r.last_error and r.next_attempt_at is None
    assert payable_balance() == PREMIUM and books_clean()  # nothing left the payable accounts

    reviewer.user_permissions.add(Permission.objects.get(codename="change_remittance"))
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)
    r = remittance.remittance_retry(remittance=r, actor=reviewer)
    assert r.status == "settled" and r.gateway_ref == "GW9" and payable_balance() == 0 and books_clean()


def test_an_unclear_payment_is_retried_by_the_sweep(working, gateway):
    paid = gateway(Payout("retry", reason="银行处理中"), Payout("processed", gateway_ref="GW7"))
    day = today_after(working)
    r = settle(day)
    assert r.status == "pending" and r.next_attempt_at and r.attempts == 1
    assert remittance.remittances_retry(now=r.next_attempt_at - dt.timedelta(seconds=1)) == 0
    assert remittance.remittances_retry(now=r.next_attempt_at) == 1
    r.refresh_from_db()
    assert r.status == "settled" and len(paid.calls) == 2 and books_clean()
    assert {c["out_trade_no"] for c in paid.calls} == {f"GMPR{day:%Y%m%d}"}  # the gateway pays it once


def test_statement_reaches_the_http_insurer_and_waits_out_an_outage(insurer, publish, worker, gateway):
    gateway(Payout("processed", gateway_ref="GW5"))
    order = on_site(publish(slots=1), worker)
    insurer.mode = "down"
    r = settle(today_after(order))
    assert r.status == "paid" and "清单未送达" in r.last_error and r.next_attempt_at
    insurer.mode = "normal"
    assert remittance.remittances_retry(now=r.next_attempt_at) == 1
    r.refresh_from_db()
    assert r.status == "settled" and r.statement_ref == f"RCPT{r.out_trade_no}"
    sent = insurer.statements[r.out_trade_no]
    assert sent["total_premium_fen"] == PREMIUM and sent["payment_ref"] == "GW5"
    assert [p["policy_no"] for p in sent["policies"]] == [order.policy.policy_number]
    assert sent["policies"][0]["cover_start"] and sent["policies"][0]["premium_fen"] == PREMIUM


def test_staff_download_the_statement_and_retry_from_the_console(client, working, gateway, reviewer):
    gateway(Payout("processed", gateway_ref="GW2"))
    r = settle(today_after(working))
    reviewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_remittance", "change_remittance"])
    )
    client.force_login(reviewer)
    page = client.get("/admin/insurance/remittance/")
    assert page.status_code == 200 and "已结清" in page.content.decode()
    response = client.get(f"/admin/insurance/remittance/{r.pk}/statement.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][0] == "保单号" and rows[2][0] == working.policy.policy_number and rows[2][3] == "6.00"


def test_statement_needs_the_permission(client, working, gateway, clerk):
    gateway(Payout("processed", gateway_ref="GW2"))
    r = settle(today_after(working))
    client.force_login(clerk)
    assert client.get(f"/admin/insurance/remittance/{r.pk}/statement.csv").status_code in (302, 403)


def test_settle_today_from_the_console(client, working, gateway, reviewer):
    gateway(Payout("processed", gateway_ref="GW3"))
    reviewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_remittance", "change_remittance"])
    )
    client.force_login(reviewer)
    with at(working.starts_at + dt.timedelta(hours=1)):
        response = client.post("/admin/insurance/remittance/settle-today/")
    assert response.status_code == 302
    r = Remittance.objects.get()
    assert r.status == "settled" and r.policy_count == 1 and payable_balance() == 0 and books_clean()


def test_reconciliation_catches_a_remittance_that_does_not_match_the_ledger(working, gateway):
    gateway(Payout("processed", gateway_ref="GW4"))
    r = settle(today_after(working))
    assert reconcile() == []
    Remittance.objects.filter(pk=r.pk).update(amount_fen=r.amount_fen + 100)
    checks = {p.check for p in reconcile()}
    assert "premiums_remitted" in checks


def test_a_statement_outage_never_pays_twice(working, gateway, monkeypatch):
    paid = gateway(Payout("processed", gateway_ref="GW8"))

    class Down:
        name = "fake"

        def send_statement(self, statement):
            raise InsurerUnavailable("保险公司接口暂时无法连接")

    monkeypatch.setattr(remittance, "get_insurer", Down)
    r = settle(today_after(working))
    assert r.status == "paid"
    remittance.remittances_retry(now=r.next_attempt_at)
    assert len(paid.calls) == 1 and LedgerTransaction.objects.filter(kind="premium_remittance").count() == 1
