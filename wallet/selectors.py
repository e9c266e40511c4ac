"""Ledger reads, and the reconciliation of every invariant."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, Sum

from .models import Account, LedgerTransaction, Posting

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
    return problems


def account_ledger(*, account: Account):
    return account.postings.select_related("transaction__order__post").order_by(
        "-transaction__created_at", "-pk"
    )
