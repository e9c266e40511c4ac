"""Premium remittance (保费结算): paying the insurer what the platform collected for it, once a day.

A premium is *earned* once it can no longer come back to the employer: its policy's cover began (active,
ended) or an issued policy's worker did not come (ended). Until then it stays in its insurer-payable
account (insurance/payable.py), because a cancellation gives it back from there.

Every morning (beat, ``insurance.tasks.remit_premiums_daily``) :func:`remit_day` settles the day before:

1. :func:`remittance_open` makes the day's :class:`~insurance.models.Remittance` and assigns to it every
   earned policy not yet remitted whose cover began before the day ended (a row per day: running it twice
   changes nothing; a policy belongs to one remittance).
2. :func:`remittance_pay` pays the total to the insurer's account through the payment gateway
   (``out_trade_no`` is the remittance's own, so the gateway never pays twice); on success one ledger
   transaction moves each payable account's share to the bank. A gateway that cannot say retries later
   (``next_attempt_at``, the sweep ``retry_remittances``); a refusal fails the remittance, shown on the
   console until staff pay it again.
3. :func:`remittance_send_statement` sends the statement (every policy, its premium and period) through
   the insurer backend; the hall downloads the same lines as CSV (:func:`statement_csv_rows`).

:func:`reconcile_premiums` (run by ``manage.py reconcile_ledger``) checks premiums collected = remitted +
payable, and that the ledger's remittances are the paid remittances.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from core.errors import InvalidTransition, NotAllowed
from wallet import ledger
from wallet.gateways import get_gateway
from wallet.models import Account, LedgerTransaction, Posting
from wallet.selectors import Problem

from .backends import InsurerRefused, InsurerUnavailable, Statement, StatementLine, get_insurer
from .models import Policy, Remittance

logger = logging.getLogger("gigmarket.insurance")

MAX_BACKOFF = dt.timedelta(hours=6)


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(minutes=5) * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def _day_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def earned_unremitted(*, before: dt.datetime):
    """Policies whose premium is the insurer's for good and not yet paid to it, earned before ``before``."""
    return Policy.objects.filter(
        Q(cover_from__lt=before) | Q(cover_from__isnull=True, order__starts_at__lt=before),
        status__in=Policy.EARNED,
        remittance__isnull=True,
    )


@transaction.atomic
def remittance_open(*, day: dt.date, now: dt.datetime | None = None) -> Remittance:
    """The remittance of ``day``, made once: it takes every earned policy not yet remitted whose cover
    began before the day's end (or before now, when staff settle the current day early)."""
    now = now or timezone.now()
    if day > timezone.localdate(now):
        raise InvalidTransition("不能结算未来的日期")
    remittance, created = Remittance.objects.get_or_create(
        day=day, defaults={"out_trade_no": f"GMPR{day:%Y%m%d}", "next_attempt_at": now}
    )
    if not created:
        return remittance
    cutoff = min(_day_end(day), now)
    # A policy becoming earned, or cancelled, meanwhile: the UPDATE re-checks the status on each row it locks.
    count = earned_unremitted(before=cutoff).update(remittance=remittance)
    total = Policy.objects.filter(remittance=remittance).aggregate(s=Sum("premium_fen"))["s"] or 0
    fields = {"policy_count": count, "amount_fen": total}
    if not count:
        fields.update(status=Remittance.Status.SETTLED, next_attempt_at=None)
    Remittance.objects.filter(pk=remittance.pk).update(**fields)
    remittance.refresh_from_db()
    return remittance


def _ledger_legs(remittance: Remittance) -> list[tuple[Account, int]]:
    """Each payable account's share: the premiums its confirmations took for this remittance's policies."""
    shares = (
        Posting.objects.filter(
            account__kind=Account.Kind.INSURANCE_PAYABLE,
            amount_fen__gt=0,
            transaction__kind=LedgerTransaction.Kind.ESCROW_FUND,
            transaction__order__policy__remittance=remittance,
        )
        .values_list("account_id")
        .annotate(total=Sum("amount_fen"))
        .order_by("account_id")
    )
    legs = [(Account(pk=pk), -total) for pk, total in shares]
    taken = -sum(amount for _, amount in legs)
    if taken != remittance.amount_fen:
        raise InvalidTransition(
            f"{remittance}：保单保费合计 {remittance.amount_fen} 分与应付保费账户记录 {taken} 分不符，请核对账本"
        )
    return [*legs, (ledger.bank(), remittance.amount_fen)]


def remittance_pay(*, remittance_id: int, now: dt.datetime | None = None) -> Remittance:
    """Pay a pending remittance through the gateway (outside any transaction); book it when paid."""
    now = now or timezone.now()
    remittance = Remittance.objects.get(pk=remittance_id)
    if remittance.status != Remittance.Status.PENDING:
        return remittance
    Remittance.objects.filter(pk=remittance.pk).update(attempts=F("attempts") + 1)
    remittance.refresh_from_db()
    payout = get_gateway().payout(
        out_trade_no=remittance.out_trade_no, amount_fen=remittance.amount_fen,
        card_number=settings.INSURER_PAYEE_ACCOUNT, holder_name=settings.INSURER_PAYEE_NAME,
    )  # fmt: skip
    if payout.status == "retry":
        Remittance.objects.filter(pk=remittance.pk, status=Remittance.Status.PENDING).update(
            last_error=f"付款未完成：{payout.reason}"[:200],
            next_attempt_at=now + _backoff(remittance.attempts),
        )
        logger.warning("premium remittance %s not paid yet (attempt %s)", remittance.day, remittance.attempts)
    elif payout.status == "failed":
        Remittance.objects.filter(pk=remittance.pk, status=Remittance.Status.PENDING).update(
            status=Remittance.Status.FAILED,
            last_error=f"付款失败：{payout.reason}"[:200],
            next_attempt_at=None,
        )
        logger.error("premium remittance %s refused by the gateway", remittance.day)
    else:
        with transaction.atomic():
            locked = Remittance.objects.select_for_update().get(pk=remittance.pk)
            if locked.status == Remittance.Status.PENDING:
                txn = ledger.transfer(
                    key=f"insurance-remittance:{locked.pk}", kind=LedgerTransaction.Kind.PREMIUM_REMITTANCE,
                    legs=_ledger_legs(locked), memo=f"保费结算 {locked.day:%Y-%m-%d}（{locked.policy_count}单）",
                )  # fmt: skip
                Remittance.objects.filter(pk=locked.pk).update(
                    status=Remittance.Status.PAID, transaction=txn, gateway_ref=payout.gateway_ref[:64],
                    paid_at=now, last_error="", next_attempt_at=now,
                )  # fmt: skip
    remittance.refresh_from_db()
    return remittance


def statement_lines(remittance: Remittance) -> list[StatementLine]:
    policies = remittance.policies.select_related("order").order_by("pk")
    return [
        StatementLine(
            policy_number=p.policy_number,
            order_no=f"GM{p.order_id:010d}",
            risk_class=p.risk_class,
            premium_fen=p.premium_fen,
            cover_start=p.cover_from or p.order.starts_at,
            cover_end=p.cover_to or p.order.ends_at,
        )
        for p in policies
    ]


def remittance_send_statement(*, remittance_id: int, now: dt.datetime | None = None) -> Remittance:
    """Send a paid remittance's statement to the insurer (idempotent on the statement number)."""
    now = now or timezone.now()
    remittance = Remittance.objects.get(pk=remittance_id)
    if remittance.status != Remittance.Status.PAID:
        return remittance
    statement = Statement(
        statement_no=remittance.out_trade_no, period=remittance.day, total_premium_fen=remittance.amount_fen,
        payment_ref=remittance.gateway_ref, lines=statement_lines(remittance),
    )  # fmt: skip
    try:
        receipt = get_insurer().send_statement(statement)
    except (InsurerUnavailable, InsurerRefused) as exc:
        retry = isinstance(exc, InsurerUnavailable)
        Remittance.objects.filter(pk=remittance.pk).update(
            attempts=F("attempts") + 1, last_error=f"清单未送达：{exc}"[:200],
            next_attempt_at=now + _backoff(remittance.attempts) if retry else None,
        )  # fmt: skip
        logger.warning("statement of remittance %s not delivered", remittance.day)
    else:
        Remittance.objects.filter(pk=remittance.pk, status=Remittance.Status.PAID).update(
            status=Remittance.Status.SETTLED, statement_ref=receipt[:64], statement_sent_at=now, last_error="",
            next_attempt_at=None,
        )  # fmt: skip
    remittance.refresh_from_db()
    return remittance


def remittance_run(*, remittance_id: int) -> Remittance:
    """Whatever the remittance still needs: payment, then the statement."""
    remittance = remittance_pay(remittance_id=remittance_id)
    return remittance_send_statement(remittance_id=remittance.pk)


def remit_day(*, day: dt.date | None = None) -> Remittance:
    """Beat: settle ``day`` (yesterday by default)."""
    day = day or timezone.localdate() - dt.timedelta(days=1)
    remittance = remittance_open(day=day)
    return remittance_run(remittance_id=remittance.pk)


def remittances_retry(*, now: dt.datetime | None = None) -> int:
    """Sweep: remittances whose payment or statement is due for another try."""
    now = now or timezone.now()
    due = Remittance.objects.filter(
        status__in=(Remittance.Status.PENDING, Remittance.Status.PAID), next_attempt_at__lte=now
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due[:50]):
        remittance_run(remittance_id=pk)
        count += 1
    return count


def remittance_retry(*, remittance: Remittance, actor) -> Remittance:
    """Staff: pay a failed remittance again (the gateway refusal was fixed), or resend a statement."""
    if not (actor.is_active and actor.is_staff and actor.has_perm("insurance.change_remittance")):
        raise NotAllowed("没有处理保费结算的权限")
    if remittance.status == Remittance.Status.SETTLED:
        raise InvalidTransition("该结算已结清")
    Remittance.objects.filter(pk=remittance.pk, status=Remittance.Status.FAILED).update(
        status=Remittance.Status.PENDING, next_attempt_at=timezone.now()
    )
    return remittance_run(remittance_id=remittance.pk)


STATEMENT_HEADER = ["保单号", "订单号", "风险等级", "保费（元）", "保障开始", "保障结束"]


def statement_csv_rows(remittance: Remittance) -> list[list]:
    """The statement as spreadsheet rows (written by core.spreadsheets)."""

    def local(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    rows: list[list] = [
        ["结算日", f"{remittance.day:%Y-%m-%d}", "付款单号", remittance.out_trade_no, "状态",
         remittance.get_status_display()],
        STATEMENT_HEADER,
    ]  # fmt: skip
    for line in statement_lines(remittance):
        rows.append(
            [line.policy_number, line.order_no, line.risk_class, f"{line.premium_fen / 100:.2f}",
             local(line.cover_start), local(line.cover_end)]
        )  # fmt: skip
    rows.append(["合计", f"{remittance.policy_count}单", "", f"{remittance.amount_fen / 100:.2f}", "", ""])
    return rows


def reconcile_premiums() -> list[Problem]:
    """Premiums collected (net of refunds) = remitted + still payable, and the ledger's remittances are
    exactly the paid remittances, each the premiums of its policies."""
    problems: list[Problem] = []
    payable = Posting.objects.filter(account__kind=Account.Kind.INSURANCE_PAYABLE)
    collected = payable.filter(transaction__order__isnull=False).aggregate(s=Sum("amount_fen"))["s"] or 0
    remitted = -(
        payable.filter(transaction__kind=LedgerTransaction.Kind.PREMIUM_REMITTANCE).aggregate(
            s=Sum("amount_fen")
        )["s"]
        or 0
    )
    held = (
        Account.objects.filter(kind=Account.Kind.INSURANCE_PAYABLE).aggregate(s=Sum("balance_fen"))["s"] or 0
    )
    if collected != remitted + held:
        problems.append(
            Problem("premiums_collected", f"保费收取 {collected} ≠ 已结算 {remitted} + 应付 {held}（分）")
        )
    paid = Remittance.objects.filter(status__in=(Remittance.Status.PAID, Remittance.Status.SETTLED))
    booked = paid.aggregate(s=Sum("amount_fen"))["s"] or 0
    if booked != remitted:
        problems.append(Problem("premiums_remitted", f"已付保费结算 {booked} ≠ 账本结算 {remitted}（分）"))
    for remittance in paid.exclude(amount_fen=0).filter(transaction__isnull=True)[:100]:
        problems.append(Problem("premiums_remitted", f"{remittance} 已付款但没有记账凭证"))
    for remittance in (
        Remittance.objects.annotate(s=Sum("policies__premium_fen"))
        .exclude(amount_fen=F("s"))
        .exclude(amount_fen=0)[:100]
    ):
        problems.append(Problem("premiums_remitted", f"{remittance} 金额与其保单保费合计不符"))
    return problems
