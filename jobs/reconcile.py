"""The rules-aware reconciliation: each order was paid what its ending says (docs/money.md), not only
"the postings balance" (that is :func:`wallet.selectors.reconcile`, which this runs too).

Per order: what reached the worker from it is exactly its pay plus its compensation, never more than its
amount; more than the escrow's quantity × pay only when the employer confirmed it or a mediation agreement
said so; a cancellation or no-show paid no pay; an order that ended holds no escrow. Per post: no hold left
once it stopped taking claims, never more than its free slots need. Per policy: its state matches the order
(no policy still waiting, or written, for cover that can no longer begin) and insurance payable holds its
premium exactly while it is bought. Owed wages are listed; owed wages beside money on the employer's
account mean the debt was not paid when the money came in.

Read-only; :func:`reconcile_orders` returns the problems, an empty list when every rule holds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from insurance.models import Policy
from insurance.premiums import premium_for_post
from notifications.models import Message
from notifications.services import message_queue
from wallet.models import Account, LedgerTransaction, Posting
from wallet.selectors import Problem, owed_wages
from wallet.selectors import reconcile as reconcile_ledger

from . import money
from .models import Order, OrderEvent, Post

#: a post still open this long after its start means the expiry sweep did not run
EXPIRY_SLACK = dt.timedelta(hours=1)
ENDED = (Order.Status.COMPLETED, Order.Status.CANCELLED, Order.Status.NO_SHOW)
TO_WORKER = (LedgerTransaction.Kind.RELEASE, LedgerTransaction.Kind.COMPENSATION)


@dataclass(frozen=True)
class Owed:
    order_id: int
    employer: str
    owed_fen: int
    completed_at: dt.datetime


def _worker_receipts() -> dict[int, int]:
    """order pk → what its pay and compensation put into the worker's wallet (insurance payouts aside)."""
    rows = (
        Posting.objects.filter(
            account__kind=Account.Kind.WORKER,
            transaction__kind__in=TO_WORKER,
            transaction__order__isnull=False,
        )
        .values_list("transaction__order_id")
        .annotate(total=Sum("amount_fen"))
        .order_by()
    )
    return dict(rows)


def _premiums_held() -> dict[int, int]:
    rows = (
        Posting.objects.filter(account__kind=Account.Kind.INSURANCE_PAYABLE, transaction__order__isnull=False)
        .values_list("transaction__order_id")
        .annotate(total=Sum("amount_fen"))
        .order_by()
    )
    return dict(rows)


def _check_order(o: Order, received: int, held_premium: int, agreed: set[int], escrow: int) -> list[Problem]:
    problems: list[Problem] = []
    say = f"订单{o.pk}（{o.get_status_display()}）"
    amount = o.amount_fen
    if received != o.paid_fen + o.compensation_fen:
        problems.append(
            Problem(
                "paid_matches_ledger",
                f"{say} 工人实收 {received} ≠ 已付 {o.paid_fen} + 补偿 {o.compensation_fen}",
            )
        )
    if o.paid_fen > (amount or 0):
        problems.append(Problem("paid_within_amount", f"{say} 已付 {o.paid_fen} 超过应付 {amount or 0}"))
    if o.status in (Order.Status.CANCELLED, Order.Status.NO_SHOW) and o.paid_fen:
        problems.append(Problem("no_pay_without_work", f"{say} 未完工却付了报酬 {o.paid_fen}"))
    if o.compensation_fen and not (o.status == Order.Status.CANCELLED and o.cancelled_by == "employer"):
        problems.append(
            Problem("compensation_only_by_employer", f"{say} 有补偿 {o.compensation_fen} 但不是雇主取消")
        )
    if o.compensation_fen > o.post.expected_amount_fen:
        problems.append(Problem("compensation_within_pay", f"{say} 补偿 {o.compensation_fen} 超过预计报酬"))
    if o.status == Order.Status.COMPLETED and amount is not None and o.pk not in agreed:
        escrowed = o.post.expected_amount_fen
        if o.approved_quantity is None or amount != int(
            (Decimal(o.post.pay_fen) * o.approved_quantity).to_integral_value()
        ):
            problems.append(Problem("amount_is_quantity_times_pay", f"{say} 应付 {amount} ≠ 确认数量 × 单价"))
        if o.auto_approved and amount > escrowed:
            problems.append(
                Problem(
                    "auto_approval_within_escrow",
                    f"{say} 自动确认 {amount} 超过托管 {escrowed}（须雇主确认）",
                )
            )
    if o.status in ENDED and escrow:
        problems.append(Problem("ended_order_escrow", f"{say} 已结束但托管余额 {escrow}"))
    policy = getattr(o, "policy", None)
    if policy is not None:
        bought = policy.status in Policy.BOUGHT
        if held_premium != (policy.premium_fen if bought else 0):
            problems.append(
                Problem(
                    "premium_matches_policy",
                    f"{say} 应付保费账户 {held_premium}，保单{policy.get_status_display()}",
                )
            )
        waiting = policy.status in (Policy.Status.PENDING, Policy.Status.ISSUED) and policy.cover_from is None
        if o.status in ENDED and waiting:
            problems.append(
                Problem(
                    "policy_matches_order", f"{say} 保单仍为“{policy.get_status_display()}”，保障已不可能开始"
                )
            )
        if o.status == Order.Status.CANCELLED and policy.status not in (
            Policy.Status.CANCELLED,
            Policy.Status.FAILED,
        ):
            problems.append(
                Problem("policy_matches_order", f"{say} 订单已取消，保单却为“{policy.get_status_display()}”")
            )
    elif held_premium:
        problems.append(Problem("premium_matches_policy", f"{say} 没有保单却占用保费 {held_premium}"))
    return problems


def _check_holds(now: dt.datetime) -> list[Problem]:
    problems: list[Problem] = []
    holds = Account.objects.filter(kind=Account.Kind.POST_HOLD).exclude(balance_fen=0).select_related("post")
    for account in holds:
        post = account.post
        live = post.status in (Post.Status.OPEN, Post.Status.FILLED) or (
            post.status == Post.Status.CLOSED and post.hidden_from
        )
        say = f"岗位{post.pk}（{post.get_status_display()}）"
        if not live:
            problems.append(Problem("no_hold_on_ended_post", f"{say} 已结束但仍托管 {account.balance_fen}"))
            continue
        if post.starts_at < now - EXPIRY_SLACK and post.status != Post.Status.FILLED:
            problems.append(
                Problem(
                    "no_hold_on_ended_post", f"{say} 已开工仍托管 {account.balance_fen}（过期任务未运行？）"
                )
            )
        need = post.slots_left * (post.expected_amount_fen + premium_for_post(post=post))
        if account.balance_fen > need:
            problems.append(
                Problem("hold_within_free_slots", f"{say} 托管 {account.balance_fen} 超过空余名额所需 {need}")
            )
    return problems


def owed_list() -> list[Owed]:
    return [
        Owed(order_id=o.pk, employer=o.employer.name, owed_fen=o.owed_fen, completed_at=o.completed_at)
        for o in owed_wages()
    ]


def _check_owed(owed: list[Owed]) -> list[Problem]:
    problems: list[Problem] = []
    by_employer: dict[str, int] = defaultdict(int)
    for item in owed:
        by_employer[item.employer] += item.owed_fen
    employer_ids = Order.objects.filter(pk__in=[o.order_id for o in owed]).values_list(
        "employer_id", flat=True
    )
    funded = Account.objects.filter(
        kind=Account.Kind.EMPLOYER, employer_id__in=employer_ids, balance_fen__gt=0
    )
    for account in funded.select_related("employer"):
        problems.append(
            Problem(
                "owed_wages_paid_first",
                f"{account.employer.name} 欠薪 {by_employer[account.employer.name]}，账户却有余额 {account.balance_fen}",
            )
        )
    return problems


def reconcile_orders(*, now: dt.datetime | None = None, ledger: bool = True) -> list[Problem]:
    """Every rule above (and, with ``ledger``, the ledger's own invariants); empty when all hold."""
    now = now or timezone.now()
    problems = list(reconcile_ledger()) if ledger else []
    received, premiums = _worker_receipts(), _premiums_held()
    escrows = dict(
        Account.objects.filter(kind=Account.Kind.ORDER_ESCROW)
        .values_list("order_id", "balance_fen")
        .order_by()
    )
    agreed = set(
        OrderEvent.objects.filter(to_status=Order.Status.COMPLETED, data__outcome="agreed").values_list(
            "order_id", flat=True
        )
    )
    orders = Order.objects.select_related("post", "policy").order_by("pk")
    for o in orders.iterator(chunk_size=1000):
        problems += _check_order(
            o, received.get(o.pk, 0), premiums.get(o.pk, 0), agreed, escrows.get(o.pk, 0)
        )
    problems += _check_holds(now)
    problems += _check_owed(owed_list())
    return problems


__all__ = ["Owed", "Problem", "owed_list", "reconcile_orders"]


def _books_staff():
    """Staff who may see the books (wallet.view_account, directly, by group, or superusers)."""
    perms = Permission.objects.filter(codename="view_account", content_type__app_label="wallet")
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(user_permissions__in=perms) | Q(groups__permissions__in=perms))
        .distinct()
    )


def nightly(*, now: dt.datetime | None = None) -> list[Problem]:
    """The nightly run (Celery beat): owed wages an employer's account can pay are paid (a credit that came
    in while the order was locked skipped it), then :func:`reconcile_orders`; on any problem every staff
    member who may see the books gets an in-app message (once a day)."""

    now = now or timezone.now()
    employers = set(owed_wages().values_list("employer_id", flat=True))
    for employer_id in sorted(employers):
        with transaction.atomic():
            money.owed_wages_pay(employer=employer_id)
    problems = reconcile_orders(now=now)
    if problems:
        day = f"{timezone.localtime(now):%Y-%m-%d}"
        params = {"date": day, "count": len(problems), "first": problems[0].detail[:60]}
        with transaction.atomic():
            for user in _books_staff():
                message_queue(
                    event_key=f"reconcile:{day}", template="reconcile_alert", params=params, recipient=user,
                    channel=Message.Channel.INAPP,
                )  # fmt: skip
    return problems
