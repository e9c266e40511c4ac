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

from core.crypto import EncryptedTextField
from core.models import StatusEvent


class Account(models.Model):
    class Kind(models.TextChoices):
        EMPLOYER = "employer", "用工方托管账户"
        POST_HOLD = "post_hold", "岗位托管"
        ORDER_ESCROW = "order_escrow", "订单托管"
        WORKER = "worker", "工人钱包"
        PLATFORM_CLEARING = "platform_clearing", "平台清算"
        INSURANCE_PAYABLE = "insurance_payable", "应付保费"
        EXTERNAL_BANK = "external_bank", "外部银行"

    # Accounts that mirror money outside the platform may run negative; everything someone owns may not.
    CONTRA = (Kind.PLATFORM_CLEARING, Kind.EXTERNAL_BANK)

    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    employer = models.ForeignKey(
        "accounts.Employer", on_delete=models.PROTECT, null=True, blank=True, verbose_name="用工主体"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="用户"
    )
    order = models.ForeignKey(
        "jobs.Order", on_delete=models.PROTECT, null=True, blank=True, verbose_name="订单"
    )
    post = models.ForeignKey(
        "jobs.Post", on_delete=models.PROTECT, null=True, blank=True, verbose_name="招工信息"
    )
    # Insurance payable is one account per (day, shard) (insurance/payable.py): confirmations of one day
    # spread over the shards instead of all locking one balance row. Null on every other kind (and on
    # the premiums collected before accounts were split).
    period = models.DateField("记账日", null=True, blank=True)
    shard = models.PositiveSmallIntegerField("分片", null=True, blank=True)
    allow_negative = models.BooleanField(default=False, editable=False, verbose_name="允许负余额")
    balance_fen = models.BigIntegerField("余额（分）", default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

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
                condition=Q(kind__in=["platform_clearing", "external_bank"])
                | Q(kind="insurance_payable", period__isnull=True),
                name="acct_singletons",
            ),
            models.UniqueConstraint(
                fields=["kind", "period", "shard"],
                condition=Q(kind="insurance_payable", period__isnull=False),
                name="acct_insurance_payable_day",
            ),
        ]

    def __str__(self) -> str:
        owner = self.employer or self.user or (f"订单{self.order_id}" if self.order_id else "")
        if self.period:
            owner = f"{self.period:%Y-%m-%d}#{self.shard}"
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
        PREMIUM_REMITTANCE = "premium_remittance", "保费结算"
        WITHDRAWAL = "withdrawal", "提现"
        WITHDRAWAL_REVERSAL = "withdrawal_reversal", "提现失败退回"
        ADJUSTMENT = "adjustment", "调账"

    kind = models.CharField("类型", max_length=24, choices=Kind.choices)
    idempotency_key = models.CharField("幂等键", max_length=120, unique=True)
    request_hash = models.CharField(max_length=64, verbose_name="请求摘要")
    order = models.ForeignKey(
        "jobs.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="订单"
    )
    memo = models.CharField("摘要", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="创建人",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "记账凭证"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Posting(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="postings", verbose_name="记账凭证"
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="postings", verbose_name="账户"
    )
    amount_fen = models.BigIntegerField("金额（分）")

    class Meta:
        verbose_name = verbose_name_plural = "分录"
        constraints = [models.CheckConstraint(condition=~Q(amount_fen=0), name="posting_nonzero")]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_fen:+d}"


# ------------------------------------------------------------------------ top-ups and withdrawals


class TopUp(models.Model):
    """An employer's 充值 through the payment gateway. Paid → the amount is credited to the employer's
    account, keyed on the top-up (a repeated notification moves nothing)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待支付"
        PAID = "paid", "已到账"
        FAILED = "failed", "支付失败"
        EXPIRED = "expired", "已过期"

    employer = models.ForeignKey(
        "accounts.Employer", on_delete=models.PROTECT, related_name="top_ups", verbose_name="用工主体"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    amount_fen = models.PositiveBigIntegerField("金额（分）")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway = models.CharField("支付通道", max_length=10)
    out_trade_no = models.CharField("商户订单号", max_length=32, unique=True)
    gateway_ref = models.CharField("支付流水号", max_length=64, blank=True)
    pay_url = models.CharField("支付链接", max_length=500, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=160, unique=True)
    request_hash = models.CharField(max_length=64, verbose_name="请求摘要")
    credit = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="入账凭证",
    )
    last_error = models.CharField("最近错误", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("支付截止")
    paid_at = models.DateTimeField("到账时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "充值"
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="top_up_amount_positive")]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["employer", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"充值 {self.out_trade_no}"


class Withdrawal(models.Model):
    """A worker's 提现 to a bank card in their own name. Requested: the money sits in platform clearing;
    processed: it left for the bank; failed: it went back to the wallet."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "处理中"
        PROCESSED = "processed", "已到账"
        FAILED = "failed", "失败已退回"

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals", verbose_name="工人"
    )
    amount_fen = models.PositiveBigIntegerField("金额（分）")
    card_number = EncryptedTextField("银行卡号（加密）")
    card_masked = models.CharField("银行卡号", max_length=32)
    holder_name = models.CharField("持卡人", max_length=40)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.REQUESTED)
    gateway = models.CharField("支付通道", max_length=10)
    out_trade_no = models.CharField("商户单号", max_length=32, unique=True)
    gateway_ref = models.CharField("支付流水号", max_length=64, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=160, unique=True)
    request_hash = models.CharField(max_length=64, verbose_name="请求摘要")
    debit = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="出账凭证",
    )
    settlement = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="结算凭证",
    )
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    processed_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "提现"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="withdrawal_amount_positive")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["worker", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"提现 {self.out_trade_no}"


class PaymentEvent(StatusEvent):
    """Append-only history of top-ups and withdrawals: every status change, who or what made it."""

    top_up = models.ForeignKey(
        TopUp, on_delete=models.PROTECT, null=True, blank=True, related_name="events", verbose_name="充值"
    )
    withdrawal = models.ForeignKey(
        Withdrawal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name="提现",
    )

    class Meta(StatusEvent.Meta):
        verbose_name = verbose_name_plural = "充值提现记录"
        constraints = [
            models.CheckConstraint(
                condition=Q(top_up__isnull=False, withdrawal__isnull=True)
                | Q(top_up__isnull=True, withdrawal__isnull=False),
                name="payment_event_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class GatewayNonce(models.Model):
    """Nonces of accepted gateway notifications, so a replayed one is refused (kept a day)."""

    nonce = models.CharField(max_length=64, unique=True, verbose_name="随机数")
    seen_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name="收到时间")

    class Meta:
        verbose_name = verbose_name_plural = "支付通知随机串"

    def __str__(self) -> str:
        return self.nonce


class IdempotencyKey(models.Model):
    """The first answer to an API request carrying an ``Idempotency-Key`` header, replayed when the
    same caller sends the same key again (with the same request; another request is refused)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="用户"
    )
    key = models.CharField(max_length=100, verbose_name="幂等键")
    request_hash = models.CharField(max_length=64, verbose_name="请求摘要")
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name="响应状态码"
    )  # null while the first runs
    body = models.JSONField(null=True, blank=True, verbose_name="响应内容")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "幂等请求"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self) -> str:
        return self.key
