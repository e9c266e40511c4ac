"""An order's money: escrow and settlement (线上结算，全流程监管), on top of the wallet's ledger
(:mod:`wallet.ledger`). The wallet knows nothing of orders; this module moves the money along an order's
life, and :mod:`insurance.services` moves the premium.

Where the money sits along an order's life:

- **top-up**: external bank → the employer's account (through the payment gateway).
- **publish**: the employer's account → the post's hold, enough for every slot: expected pay plus the
  per-order premium when cover is needed. So a worker's 抢单 never fails for want of money.
- **confirmation**: post hold → order escrow (pay) and → insurance payable (premium).
- **completion**: order escrow → worker wallet (the approved amount; any excess over the escrow is drawn
  from the employer's account, and what cannot be paid yet stays owed and shows in 欠薪预警); what is left
  in escrow goes back to the employer.
- **cancellation / no-show**: compensation from escrow to the worker; the rest back to the post's hold
  while the post still takes claims, else to the employer.
- **post ends** (filled and started, closed, cancelled, expired): post hold → employer.
- A disputed order's escrow stays where it is until the case ends.
- **owed wages** (欠薪): pay the employer confirmed beyond the escrow that its account could not cover. Any
  money that reaches the employer's account (a top-up, a post's hold or an order's escrow coming back, a
  refused premium) pays its owed wages first, oldest completion first, in the same transaction
  (:func:`owed_wages_pay`). Both sides see what is owed; staff see it in 欠薪预警.

Each call is keyed on its business event, so repeating it moves nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Sum
from django.dispatch import receiver
from django.utils import timezone

from core.errors import Conflict, DomainError, NotAllowed
from insurance.payable import payable_account_for
from insurance.premiums import premium_for_post
from insurance.services import policy_cancel_for_order
from notifications.services import order_settled_notify
from wallet import ledger
from wallet.ledger import InsufficientFunds, post_hold
from wallet.models import Account, LedgerTransaction, Posting
from wallet.signals import employer_credited

from .models import Order, Post


def per_order_cost(post) -> tuple[int, int]:
    """(pay, premium) one order of this post needs."""
    return post.expected_amount_fen, premium_for_post(post=post)


@transaction.atomic
def post_hold_fund(*, post, actor=None) -> LedgerTransaction:
    pay, premium = per_order_cost(post)
    amount = (pay + premium) * post.slots
    employer_acct = ledger.employer_account(post.employer)
    try:
        return ledger.transfer(
            key=f"post:{post.pk}:hold", kind=LedgerTransaction.Kind.ESCROW_FUND,
            legs=[(employer_acct, -amount), (post_hold(post), amount)], memo=f"岗位托管：{post.title}", actor=actor,
        )  # fmt: skip
    except InsufficientFunds as exc:
        employer_acct.refresh_from_db()
        short = amount - employer_acct.balance_fen
        raise InsufficientFunds(
            f"托管余额不足：发布需托管{amount / 100:.2f}元（{post.slots}人×{(pay + premium) / 100:.2f}元），"
            f"还差{short / 100:.2f}元，请先充值",
            code="insufficient_funds",
        ) from exc


@transaction.atomic
def post_hold_release(*, post, reason: str) -> LedgerTransaction | None:
    """Return whatever the post still holds to the employer (the post no longer takes claims)."""
    hold = post_hold(post)
    hold.refresh_from_db()
    if hold.balance_fen <= 0:
        return None
    # Keyed on the amount too: a post can be re-opened (freed slot) and close again.
    n = LedgerTransaction.objects.filter(
        order=None, idempotency_key__startswith=f"post:{post.pk}:release"
    ).count()
    txn = ledger.transfer(
        key=f"post:{post.pk}:release:{n}", kind=LedgerTransaction.Kind.REFUND,
        legs=[(hold, -hold.balance_fen), (ledger.employer_account(post.employer), hold.balance_fen)],
        memo=f"岗位结束退回：{reason}",
    )  # fmt: skip
    owed_wages_pay(employer=post.employer)
    return txn


@transaction.atomic
def order_escrow_fund(*, order) -> LedgerTransaction:
    """At confirmation: one order's pay and premium leave the post's hold; the premium goes to the day's
    insurer-payable account (insurance/payable.py: per day and shard, so 抢单 do not queue on one row)."""
    pay, premium = per_order_cost(order.post)
    legs = [(post_hold(order.post), -(pay + premium)), (ledger.order_escrow(order), pay)]
    if premium:
        legs.append((payable_account_for(order=order), premium))
    try:
        return ledger.transfer(
            key=f"order:{order.pk}:fund", kind=LedgerTransaction.Kind.ESCROW_FUND, legs=legs, order=order,
            memo="订单托管" + ("及保费" if premium else ""),
        )  # fmt: skip
    except InsufficientFunds as exc:  # the hold was sized for every slot: this means the books are wrong
        raise Conflict("岗位托管资金不足，请联系服务网点", code="hold_short") from exc


def _escrow_balance(order) -> int:
    account = ledger.order_escrow(order)
    account.refresh_from_db()
    return account.balance_fen


def _lock(*accounts: Account) -> dict[int, int]:
    """Row-lock accounts in pk order (the order :func:`ledger.transfer` locks in, so no deadlock) and return
    their balances: a decision on a balance must still hold when the transfer runs."""
    rows = Account.objects.select_for_update().filter(pk__in={a.pk for a in accounts}).order_by("pk")
    return dict(rows.values_list("pk", "balance_fen"))


def _refuse_if_disputed(order) -> None:
    # The stored status decides, under the order's row lock (a dispute filed in parallel waits), not
    # whatever copy of the order the caller holds.
    status = Order.objects.select_for_update().filter(pk=order.pk).values_list("status", flat=True).first()
    if status == Order.Status.DISPUTED:
        raise NotAllowed("订单存在争议，托管资金冻结至调解结束", code="escrow_held")


@transaction.atomic
def order_release(*, order, actor=None) -> int:
    """At completion: pay the approved amount into the worker's wallet. Returns what is still owed."""
    _refuse_if_disputed(order)
    amount = order.amount_fen or 0
    escrow = ledger.order_escrow(order)
    in_escrow = _escrow_balance(order)
    from_escrow = min(amount, in_escrow)
    legs = [(escrow, -in_escrow)] if in_escrow else []
    if from_escrow:
        legs.append((ledger.worker_account(order.worker), from_escrow))
    if in_escrow - from_escrow:
        legs.append((ledger.employer_account(order.employer), in_escrow - from_escrow))
    if legs:
        ledger.transfer(
            key=f"order:{order.pk}:release", kind=LedgerTransaction.Kind.RELEASE, legs=legs, order=order,
            memo="完工结算", actor=actor,
        )  # fmt: skip
    _record_paid(order, from_escrow)
    owed = amount - from_escrow
    if owed:
        owed = order_pay_shortfall(order=order, actor=actor)
    if in_escrow - from_escrow:
        owed_wages_pay(employer=order.employer)
    return owed


@transaction.atomic
def order_pay_shortfall(*, order, actor=None) -> int:
    """Pay what the escrow did not cover from the employer's account, as far as it goes."""
    # Locked: two calls in parallel must not both count the same payment into paid_fen.
    order = Order.objects.select_for_update().get(pk=order.pk)
    owed = (order.amount_fen or 0) - order.paid_fen
    if owed <= 0:
        return 0
    employer_acct = ledger.employer_account(order.employer)
    available = _lock(employer_acct, ledger.worker_account(order.worker))[employer_acct.pk]
    pay = min(owed, max(available, 0))
    if pay:
        ledger.transfer(
            key=f"order:{order.pk}:topup-pay:{order.paid_fen}", kind=LedgerTransaction.Kind.RELEASE,
            legs=[(employer_acct, -pay), (ledger.worker_account(order.worker), pay)], order=order,
            memo="完工结算（补足超出托管部分）", actor=actor,
        )  # fmt: skip
        _record_paid(order, pay)
    return owed - pay


def _record_paid(order, amount: int) -> None:
    if amount:
        Order.objects.filter(pk=order.pk).update(paid_fen=F("paid_fen") + amount)
    settled = Order.objects.filter(
        pk=order.pk, settled_at__isnull=True, paid_fen__gte=F("amount_fen")
    ).update(settled_at=timezone.now())
    order.refresh_from_db(fields=["paid_fen", "settled_at"])
    if settled:
        order_settled_notify(order=order)


@transaction.atomic
def order_refund(*, order, compensation_fen: int = 0, back_to_post: bool = False, reason: str = "") -> None:
    """Cancellation or no-show: compensation to the worker, the rest back to the post's hold (the slot is
    open again) or to the employer."""
    _refuse_if_disputed(order)
    in_escrow = _escrow_balance(order)
    if compensation_fen < 0:
        raise DomainError("补偿金额不能为负")
    to_worker = min(compensation_fen, in_escrow)
    rest = in_escrow - to_worker
    legs = [(ledger.order_escrow(order), -in_escrow)] if in_escrow else []
    if to_worker:
        legs.append((ledger.worker_account(order.worker), to_worker))
    if rest:
        target = post_hold(order.post) if back_to_post else ledger.employer_account(order.employer)
        legs.append((target, rest))
    if legs:
        ledger.transfer(
            key=f"order:{order.pk}:refund", kind=LedgerTransaction.Kind.COMPENSATION if to_worker else LedgerTransaction.Kind.REFUND,
            legs=legs, order=order, memo=reason or "订单取消退回",
        )  # fmt: skip
    # The premium of an order that never started comes back too (to the hold or the employer, like the pay),
    # and its policy is cancelled: see premium_refund.
    policy_cancel_for_order(order=order, back_to_post=back_to_post, reason=reason or "订单取消")
    if back_to_post and in_escrow:  # (a repeated call finds the escrow empty and moves nothing)
        _hold_refill(order)
    owed_wages_pay(employer=order.employer)


def _hold_refill(order) -> None:
    """The slot this order freed takes claims again, so the post's hold must fund every free slot in full.
    What the order did not bring back (compensation paid to the worker, a premium the insurer already
    returned to the employer) comes from the employer's account, as far as it goes."""
    post = Post.objects.get(pk=order.post_id)
    hold, employer_acct = post_hold(post), ledger.employer_account(post.employer)
    balances = _lock(hold, employer_acct)
    short = post.slots_left * sum(per_order_cost(post)) - balances[hold.pk]
    refill = min(short, max(balances[employer_acct.pk], 0))
    if refill > 0:
        ledger.transfer(
            key=f"order:{order.pk}:hold-refill", kind=LedgerTransaction.Kind.ESCROW_FUND,
            legs=[(employer_acct, -refill), (hold, refill)], order=order, memo="补足岗位托管（名额重新开放）",
        )  # fmt: skip


def owed_wages_pay(*, employer) -> int:
    """Pay the employer's owed wages from its account, oldest completion first, as far as it goes; called
    after every credit to the account, inside the transaction that made it. Returns what was paid.

    Orders another transaction holds are skipped, not waited for (``SKIP LOCKED``): this runs after the
    account's row is locked, against the lock order of jobs.services, so waiting could deadlock; the order's
    holder is paying or disputing it anyway, and the next credit (or the nightly check) comes back to it.
    An order whose escrow still holds money is being settled right now (a mediation agreement) and is
    left to that settlement."""
    employer_id = getattr(employer, "pk", employer)
    account = Account.objects.filter(kind=Account.Kind.EMPLOYER, employer_id=employer_id).first()
    if account is None or account.balance_fen <= 0:
        return 0
    busy_escrow = Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, balance_fen__gt=0).values("order_id")
    owed = (
        Order.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(employer_id=employer_id, status=Order.Status.COMPLETED, amount_fen__isnull=False)
        .filter(paid_fen__lt=F("amount_fen"))
        .exclude(pk__in=busy_escrow)
        .order_by("completed_at", "pk")
    )
    paid = 0
    for order in owed:
        before = order.paid_fen
        left = order_pay_shortfall(order=order)
        order.refresh_from_db(fields=["paid_fen"])
        paid += order.paid_fen - before
        if left:
            break  # the account is empty: later debts wait for the next credit
    return paid


@receiver(employer_credited)
def _owed_wages_pay_on_credit(sender, *, employer, **kwargs) -> None:
    """Money reached the employer's account (a top-up, a refused premium): its owed wages go first."""
    owed_wages_pay(employer=employer)


# ============================================================================ disputes hooks
# Moving a disputed order's escrow as the mediation agreement says.


@transaction.atomic
def order_settle_by_agreement(*, order, to_worker_fen: int, key: str, actor=None) -> tuple[int, int]:
    """Pay the worker ``to_worker_fen`` under a mediation agreement: from the order's escrow first, the rest
    of the escrow back to the employer, and any excess over the escrow from the employer's account as far
    as it goes (like :func:`order_pay_shortfall`). The order must already have left DISPUTED (see
    jobs.services.order_dispute_end). Keyed on ``key``: a repeat moves nothing. Returns (paid, owed)."""
    if not isinstance(to_worker_fen, int) or isinstance(to_worker_fen, bool) or to_worker_fen < 0:
        raise DomainError("协议金额必须是不小于0的整数（分）", field="worker_amount_fen")
    if not key:
        raise DomainError("缺少幂等键", field="idempotency_key")
    _refuse_if_disputed(order)  # also row-locks the order
    done = LedgerTransaction.objects.filter(idempotency_key__in=(f"{key}:escrow", f"{key}:shortfall"))
    if done.exists():
        paid = (
            Posting.objects.filter(
                transaction__in=done, account=ledger.worker_account(order.worker)
            ).aggregate(total=Sum("amount_fen"))["total"]
            or 0
        )
        return paid, max(to_worker_fen - paid, 0)
    escrow, worker_acct = ledger.order_escrow(order), ledger.worker_account(order.worker)
    employer_acct = ledger.employer_account(order.employer)
    balances = _lock(escrow, employer_acct, worker_acct)
    in_escrow = balances[escrow.pk]
    from_escrow = min(to_worker_fen, in_escrow)
    legs = [(escrow, -in_escrow)] if in_escrow else []
    if from_escrow:
        legs.append((worker_acct, from_escrow))
    if in_escrow - from_escrow:
        legs.append((employer_acct, in_escrow - from_escrow))
    if legs:
        ledger.transfer(
            key=f"{key}:escrow", kind=LedgerTransaction.Kind.RELEASE, legs=legs, order=order,
            memo="调解协议结算", actor=actor,
        )  # fmt: skip
    short = to_worker_fen - from_escrow
    extra = min(short, max(balances[employer_acct.pk], 0))
    if extra:
        ledger.transfer(
            key=f"{key}:shortfall", kind=LedgerTransaction.Kind.RELEASE,
            legs=[(employer_acct, -extra), (worker_acct, extra)], order=order,
            memo="调解协议结算（超出托管部分）", actor=actor,
        )  # fmt: skip
    paid = from_escrow + extra
    _record_paid(Order.objects.get(pk=order.pk), paid)  # paid_fen, settled_at, the settlement notice
    owed_wages_pay(employer=order.employer)
    return paid, to_worker_fen - paid
