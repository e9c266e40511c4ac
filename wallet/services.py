"""Escrow and settlement (线上结算，全流程监管), on top of :mod:`wallet.ledger`.

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

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, NotAllowed

from . import ledger
from .ledger import InsufficientFunds
from .models import Account, LedgerTransaction


def post_hold(post) -> Account:
    return Account.objects.get_or_create(kind=Account.Kind.POST_HOLD, post=post)[0]


def per_order_cost(post) -> tuple[int, int]:
    """(pay, premium) one order of this post needs."""
    from insurance.premiums import premium_for_post

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
    """At confirmation: one order's pay and premium leave the post's hold."""
    pay, premium = per_order_cost(order.post)
    legs = [(post_hold(order.post), -(pay + premium)), (ledger.order_escrow(order), pay)]
    if premium:
        legs.append((ledger.insurance_payable(), premium))
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
    from jobs.models import Order

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
    from jobs.models import Order

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
    from django.db.models import F

    from jobs.models import Order

    if amount:
        Order.objects.filter(pk=order.pk).update(paid_fen=F("paid_fen") + amount)
    settled = Order.objects.filter(
        pk=order.pk, settled_at__isnull=True, paid_fen__gte=F("amount_fen")
    ).update(settled_at=timezone.now())
    order.refresh_from_db(fields=["paid_fen", "settled_at"])
    if settled:
        from notifications.services import order_settled_notify

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
    from insurance.services import policy_cancel_for_order

    policy_cancel_for_order(order=order, back_to_post=back_to_post, reason=reason or "订单取消")
    if back_to_post and in_escrow:  # (a repeated call finds the escrow empty and moves nothing)
        _hold_refill(order)
    owed_wages_pay(employer=order.employer)


def _hold_refill(order) -> None:
    """The slot this order freed takes claims again, so the post's hold must fund every free slot in full.
    What the order did not bring back (compensation paid to the worker, a premium the insurer already
    returned to the employer) comes from the employer's account, as far as it goes."""
    from jobs.models import Post

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


@transaction.atomic
def premium_refund(*, order, premium_fen: int, back_to_post: bool, memo: str) -> LedgerTransaction:
    """A policy undone before its cover began (order cancelled, insurer refused): the premium leaves insurance
    payable for the post's hold (the slot is open again) or the employer's account. At most once per order.
    Its callers pay owed wages from it when they are done (see :func:`owed_wages_pay`)."""
    target = post_hold(order.post) if back_to_post else ledger.employer_account(order.employer)
    return ledger.transfer(
        key=f"order:{order.pk}:premium-refund", kind=LedgerTransaction.Kind.REFUND,
        legs=[(ledger.insurance_payable(), -premium_fen), (target, premium_fen)], order=order, memo=memo,
    )  # fmt: skip


@transaction.atomic
def claim_payout(*, order, worker, amount_fen: int, key: str, memo: str, actor=None) -> LedgerTransaction:
    """An accident claim's payout: the insurer's money (external bank) into the worker's wallet."""
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise DomainError("赔付金额必须大于0", field="payout")
    return ledger.transfer(
        key=key, kind=LedgerTransaction.Kind.CLAIM_PAYOUT,
        legs=[(ledger.bank(), -amount_fen), (ledger.worker_account(worker), amount_fen)], order=order, memo=memo,
        actor=actor,
    )  # fmt: skip


@transaction.atomic
def employer_credit(
    *, employer, amount_fen: int, key: str, memo: str = "充值", actor=None
) -> LedgerTransaction:
    """Money arrived from the gateway for this employer (called by the top-up flow once paid)."""
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise DomainError("充值金额必须大于0", field="amount")
    txn = ledger.transfer(
        key=key, kind=LedgerTransaction.Kind.TOP_UP,
        legs=[(ledger.bank(), -amount_fen), (ledger.employer_account(employer), amount_fen)], memo=memo, actor=actor,
    )  # fmt: skip
    owed_wages_pay(employer=employer)
    return txn


def owed_wages_pay(*, employer) -> int:
    """Pay the employer's owed wages from its account, oldest completion first, as far as it goes; called
    after every credit to the account, inside the transaction that made it. Returns what was paid.

    Orders another transaction holds are skipped, not waited for (``SKIP LOCKED``): this runs after the
    account's row is locked, against the lock order of jobs.services, so waiting could deadlock; the order's
    holder is paying or disputing it anyway, and the next credit (or the nightly check) comes back to it.
    An order whose escrow still holds money is being settled right now (a mediation agreement) and is
    left to that settlement."""
    from django.db.models import F

    from jobs.models import Order

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


# ================================================================== top-ups and withdrawals (充值、提现)
#
# Each takes an idempotency key for its business event (a form's one-time token, or an API caller's
# Idempotency-Key): the same key again returns the first top-up / withdrawal and moves nothing; the same
# key with another amount or card is refused. Gateway calls happen outside the row's transaction; what
# they answer is applied with a status check under a row lock, so a late or repeated answer moves nothing.


def _wallet_rules() -> dict:
    from django.conf import settings

    return settings.WALLET_RULES


def _request_digest(**fields) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _trade_no(prefix: str) -> str:
    import secrets

    return f"{prefix}{timezone.localtime():%Y%m%d%H%M%S}{secrets.token_hex(6).upper()}"


def _check_amount(amount_fen, *, low: int, high: int, what: str) -> None:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise DomainError("金额必须是整数（分）", field="amount")
    if amount_fen <= 0:
        raise DomainError(f"{what}金额必须大于0", field="amount")
    if amount_fen < low:
        raise DomainError(f"{what}金额至少{low / 100:.2f}元", field="amount")
    if amount_fen > high:
        raise DomainError(f"{what}金额单笔不能超过{high / 100:,.2f}元", field="amount")


def _same_request(existing, digest: str, *, owner_ok: bool):
    """A repeat of a keyed request: the first result, or a refusal when the request differs."""
    if existing.request_hash != digest or not owner_ok:
        raise Conflict("这个请求已经提交过，内容却不同；请刷新页面重新填写", field="idempotency_key",
                       code="idempotency_mismatch")  # fmt: skip
    return existing


def _payment_event(*, top_up=None, withdrawal=None, old: str, new: str, actor=None, **data) -> None:
    from .models import PaymentEvent

    PaymentEvent.objects.create(
        top_up=top_up, withdrawal=withdrawal, from_status=old, to_status=new,
        actor=actor if getattr(actor, "pk", None) else None, data=data,
    )  # fmt: skip


class GatewayDown(DomainError):
    status_code = 503
    code = "gateway_unavailable"


#: what a payment link may look like (it becomes a link on the page)
PAY_URL_SCHEMES = ("https://", "http://", "weixin://", "alipays://")


def top_up_create(*, employer, actor, amount_fen: int, key: str, notify_url: str = ""):
    """Start a top-up: a pending TopUp and a payment order at the gateway. The fake gateway pays at once
    (the employer is credited before this returns); a real one answers with the link to pay."""
    from django.conf import settings

    from accounts.models import Employer, EmployerMember

    from .gateways import GatewayError, GatewayUnavailable, get_gateway
    from .models import TopUp

    rules = _wallet_rules()
    _check_amount(amount_fen, low=1, high=rules["TOP_UP_MAX_FEN"], what="充值")
    if not key:
        raise DomainError("缺少幂等键", field="idempotency_key")
    if not EmployerMember.objects.filter(employer=employer, user=actor).exists():
        raise NotAllowed("只有该用工主体的成员才能充值")
    if employer.status != Employer.Status.APPROVED:
        raise NotAllowed("用工主体审核通过后才能充值", code="employer_not_approved")
    digest = _request_digest(kind="top_up", employer=employer.pk, amount=amount_fen)
    top_up = TopUp.objects.filter(idempotency_key=key).first()
    if top_up is not None:
        _same_request(top_up, digest, owner_ok=top_up.created_by_id == actor.pk)
        if top_up.status != TopUp.Status.PENDING or top_up.pay_url:
            return top_up  # a repeat: nothing new happens
    else:
        from django.db import IntegrityError

        try:
            with transaction.atomic():
                top_up = TopUp.objects.create(
                    employer=employer, created_by=actor, amount_fen=amount_fen, gateway=settings.PAYMENT_GATEWAY,
                    out_trade_no=_trade_no("T"), idempotency_key=key, request_hash=digest,
                    expires_at=timezone.now() + timedelta(minutes=rules["TOP_UP_EXPIRE_MINUTES"]),
                )  # fmt: skip
                _payment_event(top_up=top_up, old="", new=top_up.status, actor=actor, amount_fen=amount_fen)
        except IntegrityError:  # the same key, sent twice at once: the other one won
            top_up = TopUp.objects.get(idempotency_key=key)
            return _same_request(top_up, digest, owner_ok=top_up.created_by_id == actor.pk)
    gateway = get_gateway(top_up.gateway)
    try:
        payment = gateway.create_payment(
            out_trade_no=top_up.out_trade_no, amount_fen=top_up.amount_fen,
            description=f"零工市场托管充值-{employer.name}", notify_url=notify_url, expires_at=top_up.expires_at,
        )  # fmt: skip
    except GatewayUnavailable as exc:
        TopUp.objects.filter(pk=top_up.pk).update(last_error=str(exc)[:200])
        raise GatewayDown("支付通道暂时不可用，请稍后再试（没有扣款）") from exc
    except GatewayError as exc:
        top_up_close(top_up=top_up, status=TopUp.Status.FAILED, reason=str(exc))
        raise DomainError(f"充值未能发起：{exc}", code="gateway_refused") from exc
    if payment.state == "paid":
        return top_up_mark_paid(
            out_trade_no=top_up.out_trade_no, gateway_ref=payment.gateway_ref, amount_fen=payment.amount_fen
        )
    if not payment.pay_url.startswith(PAY_URL_SCHEMES):
        TopUp.objects.filter(pk=top_up.pk).update(last_error="支付通道没有返回有效的支付链接")
        raise GatewayDown("支付通道返回异常，请稍后再试（没有扣款）")
    TopUp.objects.filter(pk=top_up.pk, status=TopUp.Status.PENDING).update(pay_url=payment.pay_url[:500])
    top_up.refresh_from_db()
    return top_up


def top_up_mark_paid(*, out_trade_no: str, gateway_ref: str = "", amount_fen: int | None = None, actor=None):
    """The gateway says the money arrived: credit the employer once. A late payment of an expired or
    failed top-up is credited as well — the money is real. Another amount than ordered is refused and
    left for staff (the note stays on the top-up)."""
    from .models import TopUp

    top_up = TopUp.objects.get(out_trade_no=out_trade_no)
    if amount_fen is not None and amount_fen != top_up.amount_fen and top_up.status != TopUp.Status.PAID:
        TopUp.objects.filter(pk=top_up.pk).update(last_error=f"到账金额{amount_fen}分与订单不符")
        raise Conflict("到账金额与充值订单不符，已转人工核对", code="amount_mismatch")
    return _top_up_credit(top_up_id=top_up.pk, gateway_ref=gateway_ref, actor=actor)


@transaction.atomic
def _top_up_credit(*, top_up_id: int, gateway_ref: str, actor=None):
    from .models import TopUp

    top_up = TopUp.objects.select_for_update().get(pk=top_up_id)
    if top_up.status == TopUp.Status.PAID:
        return top_up
    credit = employer_credit(
        employer=top_up.employer, amount_fen=top_up.amount_fen, key=f"top_up:{top_up.pk}",
        memo=f"充值 {top_up.out_trade_no}", actor=top_up.created_by,
    )  # fmt: skip
    old = top_up.status
    top_up.status, top_up.paid_at, top_up.credit = TopUp.Status.PAID, timezone.now(), credit
    top_up.gateway_ref = gateway_ref[:64] or top_up.gateway_ref
    top_up.save(update_fields=["status", "paid_at", "credit", "gateway_ref"])
    _payment_event(top_up=top_up, old=old, new=top_up.status, actor=actor, gateway_ref=top_up.gateway_ref)
    return top_up


@transaction.atomic
def top_up_close(*, top_up, status: str, reason: str = ""):
    """A pending top-up failed or expired (nothing was credited, nothing moves)."""
    from .models import TopUp

    changed = TopUp.objects.filter(pk=top_up.pk, status=TopUp.Status.PENDING).update(
        status=status, last_error=reason[:200]
    )
    if changed:
        _payment_event(top_up=top_up, old=TopUp.Status.PENDING, new=status, reason=reason[:200])
    top_up.refresh_from_db()
    return top_up


def top_up_notified(*, notification):
    """Apply a verified gateway notification. Unknown orders are refused (the gateway will retry and staff
    see it in the log); repeats move nothing."""
    from .models import TopUp

    if not TopUp.objects.filter(out_trade_no=notification.out_trade_no).exists():
        raise DomainError("没有这笔充值", code="unknown_trade")
    if notification.state == "paid":
        return top_up_mark_paid(
            out_trade_no=notification.out_trade_no, gateway_ref=notification.gateway_ref,
            amount_fen=notification.amount_fen,
        )  # fmt: skip
    top_up = TopUp.objects.get(out_trade_no=notification.out_trade_no)
    if notification.state in ("failed", "closed"):
        return top_up_close(top_up=top_up, status=TopUp.Status.FAILED, reason="支付失败或已关闭")
    return top_up


def top_ups_expire(*, now=None) -> int:
    """Close top-ups left unpaid past their deadline, after asking the gateway (a payment may have
    arrived without its notification). Returns how many changed."""
    from .gateways import GatewayError, get_gateway
    from .models import TopUp

    now = now or timezone.now()
    changed = 0
    for top_up in TopUp.objects.filter(status=TopUp.Status.PENDING, expires_at__lt=now).order_by("pk")[:500]:
        gateway = get_gateway(top_up.gateway)
        try:
            payment = gateway.query_payment(out_trade_no=top_up.out_trade_no)
            if payment.state == "paid":
                top_up_mark_paid(
                    out_trade_no=top_up.out_trade_no, gateway_ref=payment.gateway_ref,
                    amount_fen=payment.amount_fen,
                )  # fmt: skip
                changed += 1
                continue
            if payment.state == "pending":
                gateway.close_payment(out_trade_no=top_up.out_trade_no)
        except (GatewayError, DomainError):
            continue  # ask again next round
        top_up_close(top_up=top_up, status=TopUp.Status.EXPIRED, reason="超时未支付")
        changed += 1
    return changed


def normalize_card_number(value: str) -> str:
    """Digits only, 12–19 of them, passing the Luhn check (bank cards in China are UnionPay numbers)."""
    from stdnum import luhn

    digits = "".join((value or "").split()).replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise DomainError("银行卡号应为12–19位数字", field="card_number")
    if not luhn.is_valid(digits):
        raise DomainError("银行卡号不正确，请核对", field="card_number")
    return digits


def mask_card_number(digits: str) -> str:
    """``**** **** **** 1234`` (尾号1234): the last four only. Cards can be 12 digits; first 4 + last 4
    of one, with the Luhn digit, left 1,000 candidates. Four of twelve leave 10 million."""
    return f"**** **** **** {digits[-4:]}"


def withdrawal_request(*, worker, amount_fen: int, card_number: str, holder_name: str, key: str):
    """提现: the amount leaves the wallet for platform clearing now (refused above the balance); the
    payout to the card follows after commit."""
    from django.conf import settings
    from django.db import IntegrityError

    from core.crypto import blind_index

    from .models import Withdrawal

    rules = _wallet_rules()
    _check_amount(amount_fen, low=rules["WITHDRAWAL_MIN_FEN"], high=rules["WITHDRAWAL_MAX_FEN"], what="提现")
    if not key:
        raise DomainError("缺少幂等键", field="idempotency_key")
    card = normalize_card_number(card_number)
    holder = "".join((holder_name or "").split())
    realname = getattr(worker, "realname", None)
    if realname is None or realname.status != "verified":
        raise NotAllowed("请先完成实名认证再提现", code="realname_required")
    if not holder:
        raise DomainError("请填写持卡人姓名", field="holder_name")
    if holder != realname.name:
        raise DomainError("持卡人姓名须与实名认证的姓名一致（只能提现到本人的银行卡）", field="holder_name")
    digest = _request_digest(
        kind="withdrawal", worker=worker.pk, amount=amount_fen, card=blind_index(card, purpose="card")
    )
    existing = Withdrawal.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_request(existing, digest, owner_ok=existing.worker_id == worker.pk)
    masked = mask_card_number(card)
    try:
        with transaction.atomic():
            withdrawal = Withdrawal.objects.create(
                worker=worker, amount_fen=amount_fen, card_number=card, card_masked=masked, holder_name=holder,
                gateway=settings.PAYMENT_GATEWAY, out_trade_no=_trade_no("W"), idempotency_key=key,
                request_hash=digest,
            )  # fmt: skip
            wallet = ledger.worker_account(worker)
            try:
                debit = ledger.transfer(
                    key=f"withdrawal:{withdrawal.pk}", kind=LedgerTransaction.Kind.WITHDRAWAL,
                    legs=[(wallet, -amount_fen), (ledger.clearing(), amount_fen)],
                    memo=f"提现至 {masked}", actor=worker,
                )  # fmt: skip
            except InsufficientFunds as exc:
                wallet.refresh_from_db()
                raise InsufficientFunds(
                    f"余额不足：钱包可提现 {wallet.balance_fen / 100:.2f} 元", field="amount"
                ) from exc
            withdrawal.debit = debit
            withdrawal.save(update_fields=["debit"])
            _payment_event(
                withdrawal=withdrawal, old="", new=withdrawal.status, actor=worker, amount_fen=amount_fen
            )
            pk = withdrawal.pk
            transaction.on_commit(lambda: _queue_payout(pk), robust=True)
    except IntegrityError:
        existing = Withdrawal.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_request(existing, digest, owner_ok=existing.worker_id == worker.pk)
    return withdrawal


def _queue_payout(withdrawal_id: int) -> None:
    from .tasks import pay_withdrawal

    pay_withdrawal.delay(withdrawal_id)


def withdrawal_pay(*, withdrawal_id: int):
    """Send a requested withdrawal to the bank through the gateway and apply the answer. Safe to call
    again: the gateway is idempotent on our order number and a settled withdrawal is left alone."""
    from .gateways import get_gateway
    from .models import Withdrawal

    withdrawal = Withdrawal.objects.get(pk=withdrawal_id)
    if withdrawal.status != Withdrawal.Status.REQUESTED:
        return withdrawal
    result = get_gateway(withdrawal.gateway).payout(
        out_trade_no=withdrawal.out_trade_no, amount_fen=withdrawal.amount_fen,
        card_number=withdrawal.card_number, holder_name=withdrawal.holder_name,
    )  # fmt: skip
    return withdrawal_settle(withdrawal_id=withdrawal_id, result=result)


#: minutes to wait before the n-th retry of a payout whose outcome is not known
PAYOUT_BACKOFF_MINUTES = (1, 5, 15, 30, 60)


@transaction.atomic
def withdrawal_settle(*, withdrawal_id: int, result):
    """processed: clearing → external bank; failed: clearing → back to the wallet (提现失败退回);
    retry: try again later, nothing moves."""
    from .models import Withdrawal

    withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal_id)
    if withdrawal.status != Withdrawal.Status.REQUESTED:
        return withdrawal
    old = withdrawal.status
    amount, clearing = withdrawal.amount_fen, ledger.clearing()
    if result.status == "processed":
        withdrawal.settlement = ledger.transfer(
            key=f"withdrawal:{withdrawal.pk}:paid", kind=LedgerTransaction.Kind.WITHDRAWAL,
            legs=[(clearing, -amount), (ledger.bank(), amount)], memo=f"提现到账 {withdrawal.card_masked}",
        )  # fmt: skip
        withdrawal.status = Withdrawal.Status.PROCESSED
    elif result.status == "failed":
        withdrawal.settlement = ledger.transfer(
            key=f"withdrawal:{withdrawal.pk}:reversal", kind=LedgerTransaction.Kind.WITHDRAWAL_REVERSAL,
            legs=[(clearing, -amount), (ledger.worker_account(withdrawal.worker), amount)],
            memo=f"提现失败退回：{result.reason}"[:200],
        )  # fmt: skip
        withdrawal.status = Withdrawal.Status.FAILED
        withdrawal.failure_reason = result.reason[:200]
    else:
        withdrawal.attempts += 1
        wait = PAYOUT_BACKOFF_MINUTES[min(withdrawal.attempts, len(PAYOUT_BACKOFF_MINUTES)) - 1]
        withdrawal.next_attempt_at = timezone.now() + timedelta(minutes=wait)
        withdrawal.failure_reason = result.reason[:200]
        withdrawal.gateway_ref = result.gateway_ref[:64] or withdrawal.gateway_ref
        withdrawal.save(update_fields=["attempts", "next_attempt_at", "failure_reason", "gateway_ref"])
        return withdrawal
    withdrawal.gateway_ref = result.gateway_ref[:64] or withdrawal.gateway_ref
    withdrawal.processed_at = timezone.now()
    withdrawal.save(update_fields=["status", "settlement", "failure_reason", "gateway_ref", "processed_at"])
    _payment_event(withdrawal=withdrawal, old=old, new=withdrawal.status, reason=result.reason[:200])
    return withdrawal


def withdrawals_retry(*, now=None) -> int:
    """Payouts whose outcome was not known, or whose after-commit task was lost: try again."""
    from django.db.models import Q

    from .models import Withdrawal

    now = now or timezone.now()
    due = Withdrawal.objects.filter(status=Withdrawal.Status.REQUESTED).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=5))
    )
    done = 0
    for pk in due.order_by("pk").values_list("pk", flat=True)[:500]:
        withdrawal_pay(withdrawal_id=pk)
        done += 1
    return done


# ============================================================================ disputes hooks
# Added for the disputes area: moving a disputed order's escrow as the mediation agreement says. New
# functions only; nothing above changed.


@transaction.atomic
def order_settle_by_agreement(*, order, to_worker_fen: int, key: str, actor=None) -> tuple[int, int]:
    """Pay the worker ``to_worker_fen`` under a mediation agreement: from the order's escrow first, the rest
    of the escrow back to the employer, and any excess over the escrow from the employer's account as far
    as it goes (like :func:`order_pay_shortfall`). The order must already have left DISPUTED (see
    jobs.services.order_dispute_end). Keyed on ``key``: a repeat moves nothing. Returns (paid, owed)."""
    from jobs.models import Order

    if not isinstance(to_worker_fen, int) or isinstance(to_worker_fen, bool) or to_worker_fen < 0:
        raise DomainError("协议金额必须是不小于0的整数（分）", field="worker_amount_fen")
    if not key:
        raise DomainError("缺少幂等键", field="idempotency_key")
    _refuse_if_disputed(order)  # also row-locks the order
    done = LedgerTransaction.objects.filter(idempotency_key__in=(f"{key}:escrow", f"{key}:shortfall"))
    if done.exists():
        from django.db.models import Sum

        from .models import Posting

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
