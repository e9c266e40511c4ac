"""The employer's and the worker's money at the edges of the ledger (:mod:`wallet.ledger`): credits from
the gateway, top-ups, withdrawals, and an accident claim's payout.

The wallet knows nothing of orders: an order's escrow and settlement are :mod:`jobs.money`, a premium's
refund is :mod:`insurance.services`; both move money through :mod:`wallet.ledger`. When money reaches an
employer's account the wallet sends :data:`wallet.signals.employer_credited` (jobs pays owed wages from it).

Each call is keyed on its business event, so repeating it moves nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from stdnum import luhn

from accounts.models import Employer, EmployerMember
from core.crypto import blind_index
from core.dispatch import dispatch
from core.errors import Conflict, DomainError, NotAllowed

from . import ledger
from .gateways import GatewayError, GatewayUnavailable, get_gateway
from .ledger import InsufficientFunds
from .models import Account, LedgerTransaction, PaymentEvent, TopUp, Withdrawal
from .signals import employer_credited


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
    employer_credited_announce(employer=employer)
    return txn


def employer_credited_announce(*, employer) -> None:
    """Money reached ``employer``'s account, inside the transaction that moved it: apps above the wallet react
    (:mod:`jobs.money` pays the employer's owed wages from it, oldest first)."""
    employer_credited.send(sender=Account, employer=employer)


# ================================================================== top-ups and withdrawals (充值、提现)
#
# Each takes an idempotency key for its business event (a form's one-time token, or an API caller's
# Idempotency-Key): the same key again returns the first top-up / withdrawal and moves nothing; the same
# key with another amount or card is refused. Gateway calls happen outside the row's transaction; what
# they answer is applied with a status check under a row lock, so a late or repeated answer moves nothing.


def _wallet_rules() -> dict:
    return settings.WALLET_RULES


def _request_digest(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _trade_no(prefix: str) -> str:
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
    top_up = TopUp.objects.get(out_trade_no=out_trade_no)
    if amount_fen is not None and amount_fen != top_up.amount_fen and top_up.status != TopUp.Status.PAID:
        TopUp.objects.filter(pk=top_up.pk).update(last_error=f"到账金额{amount_fen}分与订单不符")
        raise Conflict("到账金额与充值订单不符，已转人工核对", code="amount_mismatch")
    return _top_up_credit(top_up_id=top_up.pk, gateway_ref=gateway_ref, actor=actor)


@transaction.atomic
def _top_up_credit(*, top_up_id: int, gateway_ref: str, actor=None):
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
    dispatch("wallet.tasks.pay_withdrawal", withdrawal_id)


def withdrawal_pay(*, withdrawal_id: int):
    """Send a requested withdrawal to the bank through the gateway and apply the answer. Safe to call
    again: the gateway is idempotent on our order number and a settled withdrawal is left alone."""
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
