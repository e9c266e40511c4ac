"""Ledger reads, and the reconciliation of every invariant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Account, LedgerTransaction, Posting, TopUp, Withdrawal


def order_model():
    """The order a ledger account or transaction belongs to. jobs sits above the wallet, so the model is
    reached through the ledger's foreign key ("jobs.Order", declared by name) and never imported: the
    wallet's pages list orders with their money; they never change an order."""
    return Account._meta.get_field("order").related_model


SETTLED_ORDER_STATUSES = ("completed", "cancelled", "no_show")


@dataclass(frozen=True)
class Problem:
    check: str
    detail: str


def reconcile() -> list[Problem]:
    """Every invariant of the ledger; an empty list means the books are right."""
    problems: list[Problem] = []
    unbalanced = (
        Posting.objects.values("transaction_id").annotate(total=Sum("amount_fen")).exclude(total=0).order_by()
    )
    for row in unbalanced[:100]:
        problems.append(Problem("sum_zero", f"凭证#{row['transaction_id']} 分录合计 {row['total']} 分"))
    empty = LedgerTransaction.objects.filter(postings__isnull=True).values_list("pk", flat=True)[:100]
    problems += [Problem("sum_zero", f"凭证#{pk} 没有分录") for pk in empty]
    sums = dict(Posting.objects.values_list("account_id").annotate(total=Sum("amount_fen")).order_by())
    for account in Account.objects.only("pk", "kind", "balance_fen", "allow_negative").iterator(
        chunk_size=2000
    ):
        expected = sums.get(account.pk, 0)
        if account.balance_fen != expected:
            problems.append(
                Problem(
                    "balance_matches_postings",
                    f"账户#{account.pk} 余额 {account.balance_fen} ≠ 分录合计 {expected}",
                )
            )
        if expected < 0 and not account.allow_negative:
            problems.append(
                Problem("not_negative", f"账户#{account.pk}（{account.get_kind_display()}）为负 {expected}")
            )
    held = Account.objects.filter(
        Q(kind=Account.Kind.ORDER_ESCROW, order__status__in=SETTLED_ORDER_STATUSES) & ~Q(balance_fen=0)
    )
    for account in held[:100]:
        problems.append(
            Problem("settled_escrow_zero", f"订单{account.order_id} 已结束但托管余额 {account.balance_fen}")
        )
    # Checks of the areas above the wallet that keep money in it (settings.LEDGER_RECONCILE_CHECKS).
    for path in getattr(settings, "LEDGER_RECONCILE_CHECKS", ()):
        problems += import_string(path)()
    return problems


def account_ledger(*, account: Account):
    return account.postings.select_related("transaction__order__post").order_by(
        "-transaction__created_at", "-pk"
    )


# ------------------------------------------------------------------ wallets, escrow and wage supervision


@dataclass(frozen=True)
class EscrowSummary:
    available_fen: int  # on the employer's account, free to publish with
    in_posts_fen: int  # set aside for open posts' slots
    in_orders_fen: int  # held for confirmed orders until completion

    @property
    def total_fen(self) -> int:
        return self.available_fen + self.in_posts_fen + self.in_orders_fen


@dataclass(frozen=True)
class Statement:
    month: dt.date  # the first day
    opening_fen: int
    closing_fen: int
    in_fen: int
    out_fen: int
    lines: list


def _balance(**lookup) -> int:
    account = Account.objects.filter(**lookup).only("balance_fen").first()
    return account.balance_fen if account else 0


def worker_balance(*, user) -> int:
    return _balance(kind=Account.Kind.WORKER, user=user)


def wallet_lines(*, account_lookup: dict):
    """Postings of one account (found without creating it), newest first, with their order and post."""
    return (
        Posting.objects.filter(account__in=Account.objects.filter(**account_lookup))
        .select_related("transaction__order__post")
        .order_by("-pk")
    )


def worker_lines(*, user):
    return wallet_lines(account_lookup={"kind": Account.Kind.WORKER, "user": user})


def employer_lines(*, employer):
    return wallet_lines(account_lookup={"kind": Account.Kind.EMPLOYER, "employer": employer})


def escrow_summary(*, employer) -> EscrowSummary:
    held = (
        Account.objects.filter(
            Q(kind=Account.Kind.POST_HOLD, post__employer=employer)
            | Q(kind=Account.Kind.ORDER_ESCROW, order__employer=employer)
        )
        .values("kind")
        .annotate(total=Sum("balance_fen"))
        .order_by()
    )
    totals = {row["kind"]: row["total"] or 0 for row in held}
    return EscrowSummary(
        available_fen=_balance(kind=Account.Kind.EMPLOYER, employer=employer),
        in_posts_fen=totals.get(Account.Kind.POST_HOLD, 0),
        in_orders_fen=totals.get(Account.Kind.ORDER_ESCROW, 0),
    )


def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(month.replace(day=1), dt.time.min, tzinfo=tz)
    nxt = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return start, dt.datetime.combine(nxt, dt.time.min, tzinfo=tz)


def employer_statement(*, employer, month: dt.date) -> Statement:
    """The employer account's month: opening balance, every line, money in and out, closing balance."""
    start, end = _month_bounds(month)
    postings = Posting.objects.filter(account__kind=Account.Kind.EMPLOYER, account__employer=employer)
    opening = postings.filter(transaction__created_at__lt=start).aggregate(s=Sum("amount_fen"))["s"] or 0
    lines = list(
        postings.filter(transaction__created_at__gte=start, transaction__created_at__lt=end)
        .select_related("transaction__order__post")
        .order_by("transaction__created_at", "pk")
    )
    money_in = sum(p.amount_fen for p in lines if p.amount_fen > 0)
    money_out = -sum(p.amount_fen for p in lines if p.amount_fen < 0)
    return Statement(
        month=start.date(),
        opening_fen=opening,
        closing_fen=opening + money_in - money_out,
        in_fen=money_in,
        out_fen=money_out,
        lines=lines,
    )


def statement_months(*, employer) -> list[dt.date]:
    """Months with any movement on the employer's account, newest first (always this month)."""
    from django.db.models.functions import TruncMonth

    months = (
        LedgerTransaction.objects.filter(
            postings__account__kind=Account.Kind.EMPLOYER, postings__account__employer=employer
        )
        .annotate(m=TruncMonth("created_at"))
        .values_list("m", flat=True)
        .distinct()
        .order_by("-m")
    )
    found = {timezone.localtime(m).date().replace(day=1) if isinstance(m, dt.datetime) else m for m in months}
    found.add(timezone.localdate().replace(day=1))
    return sorted(found, reverse=True)


def order_payments(*, employer):
    """The employer's orders with what each owes, has paid and still holds in escrow."""
    from django.db.models import OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    Order = order_model()
    escrow = Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, order=OuterRef("pk")).values(
        "balance_fen"
    )
    return (
        Order.objects.filter(employer=employer)
        .select_related("post", "worker__realname")
        .annotate(escrow_fen=Coalesce(Subquery(escrow[:1]), Value(0)))
        .order_by("-starts_at", "-pk")
    )


def wage_arrears(*, now: dt.datetime | None = None, hours: int | None = None):
    """欠薪预警: orders completed more than ``hours`` ago whose pay has not fully reached the worker."""
    from django.conf import settings
    from django.db.models import F

    Order = order_model()
    now = now or timezone.now()
    hours = settings.WALLET_RULES["WAGE_ARREARS_HOURS"] if hours is None else hours
    return (
        Order.objects.filter(
            status=Order.Status.COMPLETED,
            completed_at__lt=now - dt.timedelta(hours=hours),
            amount_fen__isnull=False,
            paid_fen__lt=F("amount_fen"),
        )
        .select_related("post", "employer", "worker__realname")
        .annotate(owed_fen=F("amount_fen") - F("paid_fen"))
        .order_by("completed_at", "pk")
    )


def owed_wages(*, employer=None, worker=None):
    """欠薪 as each side sees it at once (not only after 欠薪预警's delay): completed orders of this employer
    or worker whose pay has not all reached the worker, oldest first, with ``owed_fen``. The employer's next
    money in pays them in this order (jobs.money.owed_wages_pay)."""
    from django.db.models import F

    Order = order_model()
    orders = Order.objects.filter(
        status=Order.Status.COMPLETED, amount_fen__isnull=False, paid_fen__lt=F("amount_fen")
    )
    if employer is not None:
        orders = orders.filter(employer=employer)
    if worker is not None:
        orders = orders.filter(worker=worker)
    return (
        orders.select_related("post", "employer")
        .annotate(owed_fen=F("amount_fen") - F("paid_fen"))
        .order_by("completed_at", "pk")
    )


def top_ups_for_member(*, user):
    return TopUp.objects.filter(employer__memberships__user=user).select_related("employer")


def withdrawals_for_worker(*, user):
    return Withdrawal.objects.filter(worker=user)


def payment_links(postings) -> dict[int, object]:
    """transaction id → the top-up or withdrawal it belongs to, for history lines without an order."""
    ids = {p.transaction_id for p in postings if p.transaction.order_id is None}
    if not ids:
        return {}
    links: dict[int, object] = {}
    for top_up in TopUp.objects.filter(credit_id__in=ids):
        links[top_up.credit_id] = top_up
    for withdrawal in Withdrawal.objects.filter(Q(debit_id__in=ids) | Q(settlement_id__in=ids)):
        for txn_id in (withdrawal.debit_id, withdrawal.settlement_id):
            if txn_id in ids:
                links[txn_id] = withdrawal
    return links


def account_owner(account: Account) -> str:
    """Who an account belongs to, masked where it is a person."""
    if account.employer_id:
        return account.employer.name
    if account.user_id:
        return str(account.user)
    if account.order_id:
        return f"订单{account.order_id} {account.order.post.title}"
    if account.post_id:
        return f"岗位{account.post_id} {account.post.title}"
    return "平台"
