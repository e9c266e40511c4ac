"""The one way money moves: :func:`transfer` writes a balanced transaction, idempotently.

Locks are taken in account-pk order (no deadlocks between two transfers touching the same accounts); the
balance UPDATE and the CHECK constraint make an overdraft impossible whatever runs in parallel.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from core.errors import Conflict, DomainError

from .models import Account, LedgerTransaction, Posting


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


def _singleton(kind: str) -> Account:
    account, _ = Account.objects.get_or_create(kind=kind, defaults={"allow_negative": kind in Account.CONTRA})
    return account


def clearing() -> Account:
    return _singleton(Account.Kind.PLATFORM_CLEARING)


def bank() -> Account:
    return _singleton(Account.Kind.EXTERNAL_BANK)


def insurance_payable() -> Account:
    return _singleton(Account.Kind.INSURANCE_PAYABLE)


def employer_account(employer) -> Account:
    return Account.objects.get_or_create(kind=Account.Kind.EMPLOYER, employer=employer)[0]


def worker_account(user) -> Account:
    return Account.objects.get_or_create(kind=Account.Kind.WORKER, user=user)[0]


def order_escrow(order) -> Account:
    return Account.objects.get_or_create(kind=Account.Kind.ORDER_ESCROW, order=order)[0]


def post_hold(post) -> Account:
    return Account.objects.get_or_create(kind=Account.Kind.POST_HOLD, post=post)[0]


def _request_hash(kind: str, legs: dict[int, int], order_id: int | None) -> str:
    body = json.dumps({"kind": kind, "legs": sorted(legs.items()), "order": order_id}, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@transaction.atomic
def transfer(
    *,
    key: str,
    kind: str,
    legs: Iterable[tuple[Account, int]],
    order=None,
    memo: str = "",
    actor=None,
) -> LedgerTransaction:
    """Post a balanced transaction. The same ``key`` again returns the first transaction and moves
    nothing; the same key with other legs is refused."""
    if not key:
        raise DomainError("缺少幂等键", field="idempotency_key")
    merged: dict[int, int] = defaultdict(int)
    for account, amount in legs:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise DomainError("金额必须是整数（分）", field="amount")
        merged[account.pk] += amount
    merged = {pk: amount for pk, amount in merged.items() if amount}
    if not merged:
        raise DomainError("金额必须大于0", field="amount")
    if sum(merged.values()) != 0:
        raise DomainError("借贷不平衡")
    digest = _request_hash(kind, merged, getattr(order, "pk", None))
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.request_hash != digest:
            raise Conflict(
                "该幂等键已用于另一笔不同的操作", field="idempotency_key", code="idempotency_mismatch"
            )
        return existing
    try:
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(
                kind=kind, idempotency_key=key, request_hash=digest, order=order, memo=memo[:200],
                created_by=actor if getattr(actor, "pk", None) else None,
            )  # fmt: skip
            in_database = connection.vendor == "postgresql"  # there a trigger moves the balance
            for pk in sorted(merged):
                amount = merged[pk]
                if not in_database:
                    Account.objects.filter(pk=pk).update(balance_fen=F("balance_fen") + amount)
                Posting.objects.create(transaction=txn, account_id=pk, amount_fen=amount)
    except IntegrityError as exc:
        if "account_owned_not_negative" in str(exc):
            raise InsufficientFunds("余额不足") from exc
        # A parallel call with the same key committed first: answer as a repeat.
        existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        if existing.request_hash != digest:
            raise Conflict(
                "该幂等键已用于另一笔不同的操作", field="idempotency_key", code="idempotency_mismatch"
            ) from exc
        return existing
    return txn
