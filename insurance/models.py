"""Insurance records: the premium table, the quote a post was published with, per-order policies and their
history, and accident claims with their documents and history.

Statuses change only through :mod:`insurance.services`, each change with an event row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import StatusEvent
from core.uploads import random_name

DEFAULT_PREMIUMS_FEN = {1: 300, 2: 400, 3: 500, 4: 600, 5: 800, 6: 1000}
DEFAULT_COVER_FEN = 1_000_000_00


class PremiumRate(models.Model):
    """One row per insurer risk class (1–6), edited by staff in the admin."""

    risk_class = models.PositiveSmallIntegerField(
        "风险等级", unique=True, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    premium_fen = models.PositiveIntegerField("每单保费（分）", validators=[MinValueValidator(1)])
    cover_fen = models.PositiveBigIntegerField("最高保额（分）", default=DEFAULT_COVER_FEN)
    insurable = models.BooleanField("可投保", default=True, help_text="关闭后该等级工种不予承保")

    class Meta:
        verbose_name = verbose_name_plural = "保费标准"
        ordering = ["risk_class"]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_class__gte=1, risk_class__lte=6), name="premium_class_1_6"
            ),
            models.CheckConstraint(condition=Q(premium_fen__gte=1), name="premium_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.risk_class}级 {self.premium_fen / 100:.2f}元/单"


class Remittance(models.Model):
    """保费结算: the premiums of one day's earned policies paid to the insurer through the payment gateway,
    with the statement of those policies sent through the insurer backend (insurance/remittance.py)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待付款"
        PAID = "paid", "已付款，清单待送达"
        SETTLED = "settled", "已结清"
        FAILED = "failed", "付款失败"

    day = models.DateField("结算日", unique=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    amount_fen = models.PositiveBigIntegerField("保费合计（分）", default=0)
    policy_count = models.PositiveIntegerField("保单数", default=0)
    out_trade_no = models.CharField("付款单号", max_length=32, unique=True)
    gateway_ref = models.CharField("支付流水号", max_length=64, blank=True)
    statement_ref = models.CharField("保险公司清单回执", max_length=64, blank=True)
    transaction = models.OneToOneField(
        "wallet.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="记账凭证",
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.CharField("最近错误", max_length=200, blank=True)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    paid_at = models.DateTimeField("付款时间", null=True, blank=True)
    statement_sent_at = models.DateTimeField("清单送达时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "保费结算"
        ordering = ["-day"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"保费结算 {self.day:%Y-%m-%d}"


class Policy(models.Model):
    """The accident policy of one order: paid from the order's funds at confirmation, in force from
    check-in to check-out."""

    class Status(models.TextChoices):
        PENDING = "pending", "出单中"
        ISSUED = "issued", "已出单"
        ACTIVE = "active", "保障中"
        ENDED = "ended", "保障结束"
        CANCELLED = "cancelled", "已退保"
        FAILED = "failed", "出单失败"

    order = models.OneToOneField(
        "jobs.Order", on_delete=models.PROTECT, related_name="policy", verbose_name="订单"
    )
    risk_class = models.PositiveSmallIntegerField("风险等级")
    premium_fen = models.PositiveIntegerField("保费（分）")
    cover_fen = models.PositiveBigIntegerField("保额（分）")
    insurer = models.CharField("承保方", max_length=40, blank=True)
    policy_number = models.CharField("保单号", max_length=64, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")
    issued_at = models.DateTimeField("出单时间", null=True, blank=True)
    cover_from = models.DateTimeField("保障开始", null=True, blank=True)
    cover_to = models.DateTimeField("保障结束", null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, verbose_name="最近错误")
    # Sent to the insurer with every issue attempt: a retried request gets the same policy back.
    request_no = models.UUIDField("出单请求号", default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveSmallIntegerField("出单尝试次数", default=0)
    failed_at = models.DateTimeField("出单失败时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("退保时间", null=True, blank=True)
    insurer_cancelled_at = models.DateTimeField("保险公司确认退保", null=True, blank=True)
    remittance = models.ForeignKey(
        Remittance, on_delete=models.PROTECT, null=True, blank=True, related_name="policies",
        verbose_name="保费结算",
    )  # fmt: skip

    IN_FORCE = (Status.ISSUED, Status.ACTIVE, Status.ENDED)  # bought and not undone
    EARNED = (Status.ACTIVE, Status.ENDED)  # the premium can no longer come back: remitted to the insurer
    BOUGHT = (Status.PENDING, *IN_FORCE)

    class Meta:
        verbose_name = verbose_name_plural = "保单"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy_number"], condition=~Q(policy_number=""), name="policy_number_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.policy_number or f"保单（订单{self.order_id}）"


class PostQuote(models.Model):
    """The cover terms a post was published with. The post's hold was sized with this premium, so every
    order of the post pays it, whatever staff later change in the premium table."""

    post = models.OneToOneField(
        "jobs.Post", on_delete=models.CASCADE, related_name="insurance_quote", verbose_name="招工信息"
    )
    required = models.BooleanField("需投保")
    insurable = models.BooleanField("可承保")
    risk_class = models.PositiveSmallIntegerField("风险等级")
    premium_fen = models.PositiveIntegerField("每单保费（分）")
    cover_fen = models.PositiveBigIntegerField("保额（分）")
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "岗位保费锁定"

    def __str__(self) -> str:
        return f"岗位{self.post_id} {self.premium_fen / 100:.2f}元/单"


class PolicyEvent(StatusEvent):
    """Append-only history of a policy: every status change, who made it, and its data."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="events", verbose_name="保单")

    class Meta(StatusEvent.Meta):
        verbose_name = verbose_name_plural = "保单记录"

    def __str__(self) -> str:
        return f"{self.policy_id}: {self.from_status}→{self.to_status}"


class AccidentClaim(models.Model):
    """理赔: an accident reported on an insured order, reviewed by staff, paid through the ledger."""

    class Status(models.TextChoices):
        REPORTED = "reported", "已报案"
        UNDER_REVIEW = "under_review", "审核中"
        FORWARDED = "forwarded", "已报保险公司"
        INSURER_ACCEPTED = "accepted", "保险公司已受理"
        NEED_DOCUMENTS = "need_docs", "需补充材料"
        APPROVED = "approved", "已赔付"
        REJECTED = "rejected", "不予赔付"

    OPEN = (
        Status.REPORTED,
        Status.UNDER_REVIEW,
        Status.FORWARDED,
        Status.INSURER_ACCEPTED,
        Status.NEED_DOCUMENTS,
    )
    AT_INSURER = (Status.FORWARDED, Status.INSURER_ACCEPTED, Status.NEED_DOCUMENTS)

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="claims", verbose_name="保单")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.REPORTED)
    accident_at = models.DateTimeField("出险时间")
    place = models.CharField("出险地点", max_length=200)
    description = models.TextField("经过", max_length=2000)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="报案人"
    )
    reported_at = models.DateTimeField("报案时间", default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="审核人",
    )  # fmt: skip
    decided_at = models.DateTimeField("结案时间", null=True, blank=True)
    payout_fen = models.PositiveBigIntegerField("赔付金额（分）", null=True, blank=True)
    payout_transaction = models.OneToOneField(
        "wallet.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="赔付凭证",
    )
    decision_note = models.CharField("审核意见/不予赔付原因", max_length=300, blank=True)
    # Forwarding to the insurer (insurance/claims.py): its claim number, and the retry state of the call.
    insurer_claim_no = models.CharField("保险公司案件号", max_length=64, blank=True)
    forwarded_at = models.DateTimeField("报保险公司时间", null=True, blank=True)
    forward_attempts = models.PositiveSmallIntegerField("报送尝试次数", default=0)
    forward_error = models.CharField("报送错误", max_length=200, blank=True)
    next_forward_at = models.DateTimeField("下次报送", null=True, blank=True)
    documents_needed = models.CharField("保险公司要求补充", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "理赔"
        ordering = ["-reported_at", "-pk"]
        permissions = [("review_accidentclaim", "可审核理赔")]
        indexes = [models.Index(fields=["status", "reported_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(payout_fen__isnull=True) | Q(payout_fen__gt=0), name="claim_payout_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(payout_fen__isnull=False),
                name="claim_approved_has_payout",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """报案号, shown to the worker and quoted on the phone."""
        return f"LP{timezone.localtime(self.reported_at):%Y%m%d}{self.pk or 0:06d}"


def _document_path(instance: ClaimDocument, filename: str) -> str:
    # A random name with the checked type's extension: the original file name (often a person's name)
    # stays in the database only.
    return random_name("insurance-claims", filename)


class ClaimDocument(models.Model):
    """A photo or PDF supporting a claim (诊断证明, 发票, 现场照片). Personal data: stored outside the public
    media and served only through a permission-checked view."""

    claim = models.ForeignKey(
        AccidentClaim, on_delete=models.PROTECT, related_name="documents", verbose_name="抢单/报名"
    )
    file = models.FileField("文件", upload_to=_document_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=120)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上传人"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")
    sent_at = models.DateTimeField("送达保险公司", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "理赔材料"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name


class ClaimEvent(StatusEvent):
    """Append-only history of a claim."""

    claim = models.ForeignKey(
        AccidentClaim, on_delete=models.CASCADE, related_name="events", verbose_name="理赔"
    )

    class Meta(StatusEvent.Meta):
        verbose_name = verbose_name_plural = "理赔记录"

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.from_status}→{self.to_status}"


class InsurerCallback(models.Model):
    """A status callback from the insurer, kept by its event id: a repeated delivery changes nothing."""

    event_id = models.CharField(max_length=64, unique=True, verbose_name="事件编号")
    claim = models.ForeignKey(
        AccidentClaim, on_delete=models.CASCADE, related_name="callbacks", verbose_name="理赔"
    )
    status = models.CharField(max_length=20, verbose_name="状态")
    received_at = models.DateTimeField(default=timezone.now, verbose_name="收到时间")

    class Meta:
        verbose_name = verbose_name_plural = "保险公司回调"
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return self.event_id
