"""The ledger. Money only moves as a :class:`LedgerTransaction` whose :class:`Posting` rows sum to zero
(checked by a deferred PostgreSQL constraint trigger at commit); postings are append-only (a trigger
refuses UPDATE and DELETE); an account's cached ``balance_fen`` moves in the same statement as its posting
and a CHECK constraint keeps owned accounts at or above zero under any concurrency. Amounts are integer fen.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Account(models.Model):
    class Kind(models.TextChoices):
        EMPLOYER = "employer", "用工方托管账户"
        ORDER_ESCROW = "order_escrow", "订单托管"
        WORKER = "worker", "工人钱包"
        PLATFORM_CLEARING = "platform_clearing", "平台清算"
        INSURANCE_PAYABLE = "insurance_payable", "应付保费"
        EXTERNAL_BANK = "external_bank", "外部银行"

    # Accounts that mirror money outside the platform may run negative; everything someone owns may not.
    CONTRA = (Kind.PLATFORM_CLEARING, Kind.EXTERNAL_BANK)

    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    employer = models.ForeignKey("accounts.Employer", on_delete=models.PROTECT, null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    order = models.ForeignKey("jobs.Order", on_delete=models.PROTECT, null=True, blank=True)
    allow_negative = models.BooleanField(default=False, editable=False)
    balance_fen = models.BigIntegerField("余额（分）", default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "账户"
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance_fen__gte=0), name="account_owned_not_negative"
            ),
            models.UniqueConstraint(
                fields=["kind", "employer"], condition=Q(kind="employer"), name="acct_employer"
            ),
            models.UniqueConstraint(fields=["kind", "user"], condition=Q(kind="worker"), name="acct_worker"),
            models.UniqueConstraint(
                fields=["kind", "order"], condition=Q(kind="order_escrow"), name="acct_order"
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["platform_clearing", "insurance_payable", "external_bank"]),
                name="acct_singletons",
            ),
        ]

    def __str__(self) -> str:
        owner = self.employer or self.user or (f"订单{self.order_id}" if self.order_id else "")
        return f"{self.get_kind_display()} {owner}".strip()


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        TOP_UP = "top_up", "充值"
        ESCROW_FUND = "escrow_fund", "订单托管"
        RELEASE = "release", "完工结算"
        REFUND = "refund", "退回"
        COMPENSATION = "compensation", "取消补偿"
        PREMIUM = "premium", "保费"
        CLAIM_PAYOUT = "claim_payout", "理赔"
        WITHDRAWAL = "withdrawal", "提现"
        WITHDRAWAL_REVERSAL = "withdrawal_reversal", "提现失败退回"
        ADJUSTMENT = "adjustment", "调账"

    kind = models.CharField("类型", max_length=24, choices=Kind.choices)
    idempotency_key = models.CharField("幂等键", max_length=120, unique=True)
    request_hash = models.CharField(max_length=64)
    order = models.ForeignKey("jobs.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    memo = models.CharField("摘要", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "记账凭证"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Posting(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount_fen = models.BigIntegerField("金额（分）")

    class Meta:
        verbose_name = verbose_name_plural = "分录"
        constraints = [models.CheckConstraint(condition=~Q(amount_fen=0), name="posting_nonzero")]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_fen:+d}"
