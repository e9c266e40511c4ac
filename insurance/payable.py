"""Where collected premiums wait for the insurer: insurance payable, one ledger account per (day, shard).

A confirmation moves the order's premium into ``payable_account(day=<local date of confirmation>,
shard=order.pk % PAYABLE_SHARDS)``. Two reasons for the split: confirmations (抢单) of one day lock one of
``PAYABLE_SHARDS`` balance rows instead of all queueing on one, and a day's premiums stay apart from the
next day's. A premium given back (the policy cancelled or refused before its cover began) leaves the very
account it went into (:func:`premium_account_of`), so no account ever needs another's money. The daily
remittance (:mod:`insurance.remittance`) takes from each account the premiums of the policies it pays.

Premiums collected before the split sit in the old single account (``period`` null); it is read the same
way and drained by remittances like the others.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.utils import timezone

from wallet.models import Account

PAYABLE_SHARDS = 8


def payable_account(*, day: dt.date, shard: int = 0) -> Account:
    """The insurer-payable account of ``day`` (a local date) and ``shard``, made on first use."""
    return Account.objects.get_or_create(
        kind=Account.Kind.INSURANCE_PAYABLE, period=day, shard=shard % PAYABLE_SHARDS
    )[0]


def payable_account_for(*, order) -> Account:
    """The account a premium confirmed now for ``order`` goes into."""
    return payable_account(day=timezone.localdate(), shard=order.pk % PAYABLE_SHARDS)


def premium_account_of(*, order) -> Account | None:
    """The payable account that holds ``order``'s premium (the account its confirmation credited)."""
    return (
        Account.objects.filter(
            kind=Account.Kind.INSURANCE_PAYABLE,
            postings__transaction__order=order,
            postings__amount_fen__gt=0,
        )
        .order_by("pk")
        .first()
    )


def payable_accounts():
    """Every insurer-payable account (the old single one included)."""
    return Account.objects.filter(kind=Account.Kind.INSURANCE_PAYABLE)


def payable_balance() -> int:
    """What the platform owes the insurer now: collected premiums not yet remitted."""
    return payable_accounts().aggregate(total=Sum("balance_fen"))["total"] or 0
