"""The wallet pages: a worker's wallet and withdrawals, an employer's escrow account, top-ups and
statements, the staff's 欠薪预警 and ledgers. Forms are double-submit safe; someone else's things are 404;
staff pages need wallet.view_account; card numbers never appear in full."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Employer
from jobs import money
from jobs.models import Order
from wallet import ledger
from wallet.models import LedgerTransaction, TopUp, Withdrawal
from wallet.selectors import reconcile

from .conftest import balance, card, credit_worker

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(user)
    return client


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)


def text(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------------------------- worker wallet


def test_wallet_shows_balance_and_lines_with_their_order_and_post(client, employer, boss, worker, make_order):
    from wallet import services

    services.top_up_create(employer=employer, actor=boss, amount_fen=100_000, key="seed")
    order = make_order(employer, boss, worker)
    page = text(logged_in(client, worker).get(reverse("wallet:mine")))
    assert 'id="balance">200.00' in page
    assert "完工结算" in page and "+200.00 元" in page
    assert f'href="/jobs/orders/{order.pk}/"' in page and "工地招小工" in page
    assert reconcile() == []


def test_withdraw_form_pays_out_and_a_double_submit_pays_once(
    client, worker, django_capture_on_commit_callbacks
):
    credit_worker(worker, 100_000)
    client = logged_in(client, worker)
    token = token_of(text(client.get(reverse("wallet:mine"))))
    form = {"token": token, "amount": "300.5", "card_number": card(5), "holder_name": "赵洪亮"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("wallet:withdraw"), form)
    withdrawal = Withdrawal.objects.get()
    assert first.status_code == 302 and first.url == reverse("wallet:withdrawal_detail", args=[withdrawal.pk])
    again = client.post(reverse("wallet:withdraw"), form)  # the same form sent twice
    assert again.status_code == 302 and again.url == first.url
    assert Withdrawal.objects.count() == 1 and withdrawal.amount_fen == 30_050
    assert balance(ledger.worker_account(worker)) == 100_000 - 30_050
    detail = text(client.get(first.url))
    assert "已到账" in detail and card(5)[-4:] in detail and card(5) not in detail
    wallet_page = text(client.get(reverse("wallet:mine")))
    assert card(5) not in wallet_page and "提现记录" in wallet_page
    # The same token with another amount is refused, not paid.
    response = client.post(reverse("wallet:withdraw"), {**form, "amount": "10"})
    assert response.status_code == 200 and "已经提交过" in text(response)
    assert Withdrawal.objects.count() == 1 and reconcile() == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "1.234"}, "amount", "两位小数"),
        ({"amount": "0"}, "amount", "大于0"),
        ({"amount": "-20"}, "amount", "大于0"),
        ({"amount": "2000"}, "amount", "余额不足"),
        ({"holder_name": "王五"}, "holder_name", "实名"),
        ({"card_number": "6217000000000000001"}, "card_number", "银行卡号不正确"),
        ({"token": "not-a-token"}, None, "页面已过期"),
    ],
)
def test_withdraw_refusals_show_on_the_field_and_move_nothing(client, worker, fields, field, message):
    credit_worker(worker, 100_000)
    client = logged_in(client, worker)
    form = {"token": "a" * 32, "amount": "100", "card_number": card(5), "holder_name": "赵洪亮", **fields}
    response = client.post(reverse("wallet:withdraw"), form)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(
        errors[field] if field else errors.get("token", []) + errors.get("__all__", [])
    )
    assert not Withdrawal.objects.exists() and balance(ledger.worker_account(worker)) == 100_000


def test_unverified_worker_is_sent_to_real_name(client, alice):
    page = text(logged_in(client, alice).get(reverse("wallet:mine")))
    assert "去实名认证" in page and 'name="card_number"' not in page


def test_someone_elses_withdrawal_is_404(client, worker, charlie):
    credit_worker(worker, 100_000)
    client = logged_in(client, worker)
    client.post(
        reverse("wallet:withdraw"),
        {"token": "b" * 32, "amount": "10", "card_number": card(5), "holder_name": "赵洪亮"},
    )
    withdrawal = Withdrawal.objects.get()
    client.force_login(charlie)
    assert client.get(reverse("wallet:withdrawal_detail", args=[withdrawal.pk])).status_code == 404


def test_wallet_pages_need_login(client):
    for name in ("wallet:mine", "wallet:escrow_home"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response.url


# ---------------------------------------------------------------------------------- employer escrow


def test_escrow_home_goes_to_the_one_employer_or_explains(client, boss, employer, alice):
    response = logged_in(client, boss).get(reverse("wallet:escrow_home"))
    assert response.status_code == 302 and response.url == reverse("wallet:escrow", args=[employer.pk])
    client.force_login(alice)
    assert "登记用工主体" in text(client.get(reverse("wallet:escrow_home")))


def test_top_up_form_credits_and_a_double_submit_credits_once(client, boss, employer):
    client = logged_in(client, boss)
    page = client.get(reverse("wallet:escrow", args=[employer.pk]))
    form = {"token": token_of(text(page)), "amount": "1,500.50"}
    first = client.post(reverse("wallet:top_up", args=[employer.pk]), form)
    second = client.post(reverse("wallet:top_up", args=[employer.pk]), form)
    assert first.status_code == second.status_code == 302
    assert TopUp.objects.count() == 1 and TopUp.objects.get().amount_fen == 150_050
    assert LedgerTransaction.objects.filter(kind="top_up").count() == 1
    page = text(client.get(first.url))
    assert "充值成功，1500.50 元已到账" in page and 'id="available">1,500.50' in page
    assert reconcile() == []


@pytest.mark.parametrize(
    ("amount", "message"), [("0", "大于0"), ("-1", "大于0"), ("9.999", "两位小数"), ("", "请填写金额")]
)
def test_top_up_refusals(client, boss, employer, amount, message):
    response = logged_in(client, boss).post(
        reverse("wallet:top_up", args=[employer.pk]), {"token": "c" * 32, "amount": amount}
    )
    assert response.status_code == 200 and message in " ".join(response.context["form"].errors["amount"])
    assert not TopUp.objects.exists()


def test_unapproved_employer_cannot_top_up(client, boss, employer):
    Employer.objects.filter(pk=employer.pk).update(status=Employer.Status.PENDING)
    client = logged_in(client, boss)
    assert "审核通过后才能充值" in text(client.get(reverse("wallet:escrow", args=[employer.pk])))
    response = client.post(reverse("wallet:top_up", args=[employer.pk]), {"token": "d" * 32, "amount": "10"})
    assert response.status_code == 200 and not TopUp.objects.exists()


def test_another_employers_account_top_up_and_statement_are_404(client, boss, employer, other_boss):
    client = logged_in(client, boss)
    client.post(reverse("wallet:top_up", args=[employer.pk]), {"token": "e" * 32, "amount": "10"})
    top_up = TopUp.objects.get()
    client.force_login(other_boss)
    for url in (
        reverse("wallet:escrow", args=[employer.pk]),
        reverse("wallet:statement", args=[employer.pk]),
        reverse("wallet:statement_csv", args=[employer.pk]),
        reverse("wallet:top_up_detail", args=[top_up.pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("wallet:top_up", args=[employer.pk]), {"token": "f" * 32, "amount": "10"})
    assert response.status_code == 404 and TopUp.objects.count() == 1


def test_escrow_page_shows_holds_and_per_order_payments(
    client, boss, employer, worker, other_worker, make_order
):
    from wallet import services

    services.top_up_create(employer=employer, actor=boss, amount_fen=100_000, key="seed")
    done = make_order(employer, boss, worker, title="已完工的活")
    open_order = make_order(employer, boss, other_worker, complete=False, title="还没开工的活", slots=2)
    page = text(logged_in(client, boss).get(reverse("wallet:escrow", args=[employer.pk])))
    # 1000 in; 200 paid to the first worker; the second post holds 2 × 200, 200 of it now in the order.
    assert 'id="available">400.00' in page
    assert 'id="in-posts">200.00' in page and 'id="in-orders">200.00' in page
    assert f"#{done.pk} 已完工的活" in page and "应付 <strong>200.00</strong> 元 · 已付 200.00 元" in page
    assert f"#{open_order.pk} 还没开工的活" in page and "托管中 200.00 元" in page
    assert "赵洪亮" in page


def test_statement_and_csv_for_a_month(client, boss, employer, worker, make_order):
    from wallet import services

    services.top_up_create(employer=employer, actor=boss, amount_fen=100_000, key="seed")
    # Half a day's work: half the escrow goes back to the employer, on a line naming the order.
    order = make_order(employer, boss, worker, title="=HYPERLINK(1)", quantity="0.5")
    client = logged_in(client, boss)
    month = timezone.localdate().strftime("%Y-%m")
    page = text(client.get(reverse("wallet:statement", args=[employer.pk]) + f"?month={month}"))
    assert "期初余额" in page and "+1,000.00 元" in page and "-200.00 元" in page and "+100.00 元" in page
    assert "<strong>900.00 元</strong>" in page and f"订单#{order.pk}" in page
    response = client.get(reverse("wallet:statement_csv", args=[employer.pk]) + f"?month={month}")
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = body.strip().splitlines()
    assert rows[1].startswith("时间,类型,摘要") and "期初余额" in rows[2]
    assert any(",充值," in r and "1000.00" in r for r in rows)
    assert any(f",{order.pk},'=HYPERLINK(1),100.00,,900.00" in r for r in rows)  # never a formula
    assert rows[-1].endswith("1100.00,200.00,900.00")
    # Another month is empty but well-formed; a bad month falls back to this one.
    last_year = text(client.get(reverse("wallet:statement", args=[employer.pk]) + "?month=2001-01"))
    assert "本月没有收支" in last_year
    assert client.get(reverse("wallet:statement", args=[employer.pk]) + "?month=13-99").status_code == 200


# -------------------------------------------------------------------------------------------- staff


@pytest.fixture
def unpaid_order(employer, boss, worker, make_order):
    """Completed at twice the expected days while the employer's account is empty: half stays owed."""
    from wallet import services

    services.top_up_create(employer=employer, actor=boss, amount_fen=20_000, key="seed")
    order = make_order(employer, boss, worker, quantity="2")
    assert (order.amount_fen, order.paid_fen) == (40_000, 20_000)
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - dt.timedelta(hours=30))
    return order


def test_arrears_page_lists_who_owes_what(client, books_staff, unpaid_order):
    page = text(logged_in(client, books_staff).get(reverse("wallet:arrears")))
    assert "青溪物业服务有限公司" in page and "欠 200.00 元" in page and f"订单#{unpaid_order.pk}" in page
    assert "赵**" in page and "136****0101" in page and "13600000101" not in page
    assert "已超 <strong>30</strong> 小时" in page
    # A longer deadline hides it; settling it removes it.
    assert "没有欠薪订单" in text(client.get(reverse("wallet:arrears") + "?hours=48"))


def test_arrears_page_drops_an_order_once_paid(client, books_staff, unpaid_order, boss, employer):
    from wallet import services

    services.top_up_create(employer=employer, actor=boss, amount_fen=50_000, key="more")
    money.order_pay_shortfall(order=unpaid_order)
    assert "没有欠薪订单" in text(logged_in(client, books_staff).get(reverse("wallet:arrears")))
    assert reconcile() == []


def test_staff_pages_need_the_permission(client, staff, boss, worker):
    credit_worker(worker, 5_000)
    account = ledger.worker_account(worker)
    for user in (staff, boss, worker):
        client.force_login(user)
        for url in (
            reverse("wallet:arrears"),
            reverse("wallet:staff_accounts"),
            reverse("wallet:staff_ledger", args=[account.pk]),
        ):
            assert client.get(url).status_code == 403, (user, url)


def test_staff_sees_any_accounts_ledger_masked(client, books_staff, worker):
    credit_worker(worker, 5_000)
    account = ledger.worker_account(worker)
    client = logged_in(client, books_staff)
    listing = text(client.get(reverse("wallet:staff_accounts") + "?kind=worker&q=13600000101"))
    found = listing[listing.index('id="accounts"') :]
    assert f"#{account.pk} 工人钱包" in found and "136****0101" in found and "13600000101" not in found
    page = text(client.get(reverse("wallet:staff_ledger", args=[account.pk])))
    assert 'id="account-balance">50.00 元' in page and "+50.00 元" in page and "136****0101" in page
    assert client.get(reverse("wallet:staff_ledger", args=[999999])).status_code == 404


def test_nav_shows_the_wallet_to_workers_and_employers(client, worker, boss, books_staff):
    assert 'href="/wallet/">钱包' in text(logged_in(client, worker).get("/"))
    client.force_login(boss)
    assert 'href="/wallet/escrow/">钱包' in text(client.get("/"))
    client.force_login(books_staff)
    assert "欠薪预警" in text(client.get("/"))


def test_history_pages_back(client, worker):
    for i in range(55):
        credit_worker(worker, 100 + i, key=f"earn-{i}")
    client = logged_in(client, worker)
    page = client.get(reverse("wallet:mine"))
    assert len(page.context["lines"]) == 50 and page.context["more_url"]
    older = client.get(reverse("wallet:mine") + page.context["more_url"])
    assert len(older.context["lines"]) == 5 and not older.context["more_url"]
    assert "+1.00 元" in text(older)  # the very first line
