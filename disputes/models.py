"""Disputes (纠纷调解): complaints, the mediation case, its sessions, evidence, private notes, the mediation
agreement (调解协议书) and transfers to arbitration.

Status fields change only through :mod:`disputes.services`; every transition writes a :class:`CaseEvent`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import StatusEvent
from core.uploads import EXTENSIONS, random_name


class Case(models.Model):
    class Category(models.TextChoices):
        WAGE_ARREARS = "wage_arrears", "拖欠工资"
        QUALITY = "quality", "工作质量"
        INJURY = "injury", "工伤/受伤"
        CONTRACT = "contract", "协议履行"
        FAKE_POST = "fake_post", "虚假招工"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        FILED = "filed", "已申请"
        ACCEPTED = "accepted", "已受理"
        DECLINED = "declined", "不予受理"
        MEDIATING = "mediating", "调解中"
        AGREED = "agreed", "调解成功"
        FAILED = "failed", "调解不成"
        CLOSED = "closed", "已结案"
        TRANSFERRED = "transferred", "已移交"

    class Channel(models.TextChoices):
        ONLINE = "online", "线上申请"
        ORAL = "oral", "口头申请（大厅登记）"

    class Side(models.TextChoices):
        WORKER = "worker", "劳动者"
        EMPLOYER = "employer", "用工方"

    OPEN = (Status.FILED, Status.ACCEPTED, Status.MEDIATING)
    ENDED = (Status.DECLINED, Status.CLOSED, Status.TRANSFERRED)

    category = models.CharField("类别", max_length=16, choices=Category.choices)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.FILED)
    channel = models.CharField("申请方式", max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    order = models.ForeignKey(
        "jobs.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name="订单",
    )
    post = models.ForeignKey(
        "jobs.Post",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name="岗位",
    )
    # The two sides: the worker and the employer (its members act for it). Either may be missing for a
    # walk-in complaint against someone without an account; the recorded names stand for them.
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="worker_cases",
        verbose_name="劳动者",
    )  # fmt: skip
    employer = models.ForeignKey(
        "accounts.Employer", on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
        verbose_name="用工方",
    )  # fmt: skip
    complainant_side = models.CharField("申请方", max_length=8, choices=Side.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="申请人账户",
    )  # fmt: skip
    complainant_name = models.CharField("申请人姓名", max_length=40)
    complainant_phone = models.CharField("申请人电话", max_length=11, blank=True)
    respondent_name = models.CharField("被申请人", max_length=80)
    request = models.CharField("申请事项", max_length=300, blank=True)
    description = models.TextField("事实和理由", max_length=2000)
    amount_claimed_fen = models.PositiveIntegerField("请求金额（分）", default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="登记工作人员",
    )  # fmt: skip
    service_point = models.ForeignKey(
        "accounts.ServicePoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="受理网点",
    )  # fmt: skip
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="mediated_cases",
        verbose_name="调解员",
    )  # fmt: skip
    filed_at = models.DateTimeField("申请时间", default=timezone.now)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    deadline_at = models.DateTimeField("调解期限", null=True, blank=True)
    ended_at = models.DateTimeField(
        "结束时间", null=True, blank=True, help_text="调解成功/不成/不予受理/移交的时间"
    )
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    decline_reason = models.CharField("不予受理原因", max_length=300, blank=True)
    outcome_note = models.CharField("结果说明", max_length=300, blank=True)
    recovered_fen = models.PositiveIntegerField(
        "追回工资（分）", default=0, help_text="经平台（调解协议）和线下（见线下追回记录）追回的合计"
    )
    owed_fen = models.PositiveIntegerField(
        "协议未付（分）", default=0, help_text="用工方余额不足、尚未付清的部分"
    )
    post_hidden_from = models.CharField("举报前岗位状态", max_length=10, blank=True)
    reminded_near_at = models.DateTimeField("临期提醒时间", null=True, blank=True)
    reminded_overdue_at = models.DateTimeField("超期提醒时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "纠纷案件"
        ordering = ["-filed_at", "-pk"]
        permissions = [
            ("accept_case", "可受理、分派纠纷"),
            ("view_party_contact", "可查看当事人完整姓名电话"),
        ]
        constraints = [
            # One open case per order: its escrow is held by exactly one case.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["filed", "accepted", "mediating", "agreed", "failed"]),
                name="case_one_open_per_order",
            ),
            models.CheckConstraint(
                condition=Q(category="fake_post") | Q(order__isnull=False) | Q(channel="oral"),
                name="case_online_needs_order",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline_at"]),
            models.Index(fields=["mediator", "status", "deadline_at"]),
            models.Index(fields=["filed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_category_display()}"

    @property
    def number(self) -> str:
        return f"JF-{self.pk or 0:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class CaseEvent(StatusEvent):
    """Append-only history of a case: every transition, message and session, who did it, and its data."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", verbose_name="纠纷案件")
    kind = models.CharField(max_length=20, default="status", verbose_name="类型")
    # Whether the parties see this row in their timeline (assignments, flags and reminders are internal).
    public = models.BooleanField(default=True, verbose_name="双方可见")

    class Meta(StatusEvent.Meta):
        verbose_name = verbose_name_plural = "案件记录"

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind} {self.from_status}→{self.to_status}"


def _evidence_path(instance, filename: str) -> str:
    return random_name("evidence", f"upload.{EXTENSIONS.get(instance.content_type, 'bin')}")


class Evidence(models.Model):
    """A file a party (or staff for them) brought: a photo or a PDF. Personal data: served only to the
    parties, the assigned mediator and staff (see :func:`disputes.views.evidence_file`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence", verbose_name="纠纷案件")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上传人"
    )
    side = models.CharField("提交方", max_length=10)
    file = models.FileField("文件", upload_to=_evidence_path)
    original_name = models.CharField("原文件名", max_length=120)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64, verbose_name="SHA-256 摘要")
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "证据"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Session(models.Model):
    """A mediation session (调解会): when, where, who came; the minutes are the mediator's."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions", verbose_name="纠纷案件")
    starts_at = models.DateTimeField("时间")
    room = models.CharField("地点", max_length=80)
    attendees = models.CharField("参加人员", max_length=300, blank=True)
    notes = models.TextField("调解笔录", max_length=4000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "调解会"
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.starts_at:%Y-%m-%d %H:%M} {self.room}"


class PrivateNote(models.Model):
    """The mediator's own notes: never shown to the parties."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="private_notes", verbose_name="纠纷案件"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="作者"
    )
    text = models.TextField("内容", max_length=4000)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "调解员笔记"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"笔记 {self.case_id}"


class Agreement(models.Model):
    """调解协议书: written by the mediator, confirmed by each party with an SMS code, then signed by the
    mediator — which ends the case as agreed and moves the money through the wallet."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "待双方确认"
        REJECTED = "rejected", "被拒绝"
        SUPERSEDED = "superseded", "已作废（有新版本）"
        SIGNED = "signed", "已生效"

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="agreements", verbose_name="纠纷案件"
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PROPOSED)
    facts = models.TextField("基本事实", max_length=2000)
    disputed_items = models.TextField("争议事项", max_length=1000)
    terms = models.JSONField("协议条款", default=list, help_text="[{text, amount_fen, due_on}]")
    worker_amount_fen = models.PositiveIntegerField("用工方支付劳动者（分）")
    pay_by = models.DateField("支付期限")
    body = models.TextField("协议全文")
    content_hash = models.CharField("内容摘要(SHA-256)", max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")
    worker_signed_at = models.DateTimeField("劳动者确认时间", null=True, blank=True)
    employer_signed_at = models.DateTimeField("用工方确认时间", null=True, blank=True)
    employer_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="用工方签署人",
    )
    mediator_signed_at = models.DateTimeField("调解员签名时间", null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="拒绝人",
    )
    reject_reason = models.CharField("拒绝原因", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "调解协议书"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["proposed", "signed"]),
                name="agreement_one_live_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"调解协议 {self.case_id}"

    @property
    def parties_signed(self) -> bool:
        return bool(self.worker_signed_at and self.employer_signed_at)

    @property
    def status_text(self) -> str:
        """The status as the parties' pages say it: 「待双方确认」 only while neither has confirmed."""
        if self.status == self.Status.PROPOSED:
            if self.parties_signed:
                return "双方已确认，待调解员签名"
            if self.worker_signed_at:
                return "劳动者已确认，待用工方确认"
            if self.employer_signed_at:
                return "用工方已确认，待劳动者确认"
        return self.get_status_display()


class Transfer(models.Model):
    """The record of a case handed to arbitration or the social-governance centre."""

    class To(models.TextChoices):
        ARBITRATION = "arbitration", "劳动人事争议仲裁委员会"
        GOVERNANCE = "governance", "社会治理中心"

    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, related_name="transfer", verbose_name="纠纷案件"
    )
    to = models.CharField("移交至", max_length=12, choices=To.choices)
    organisation = models.CharField("接收单位", max_length=100)
    note = models.CharField("移交说明", max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "移交记录"

    def __str__(self) -> str:
        return f"{self.case_id} → {self.get_to_display()}"


class Extension(models.Model):
    """调解延期: the mediator proposes one new deadline with a reason; it takes effect when both parties
    confirm it with an SMS code (as for the agreement). A case is extended at most once."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "待双方确认"
        REJECTED = "rejected", "被拒绝"
        APPLIED = "applied", "已延期"

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="extensions", verbose_name="纠纷案件"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PROPOSED)
    reason = models.CharField("延期理由", max_length=300)
    old_deadline = models.DateTimeField("原调解期限")
    new_deadline = models.DateTimeField("新调解期限")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提议人"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")
    worker_agreed_at = models.DateTimeField("劳动者同意时间", null=True, blank=True)
    employer_agreed_at = models.DateTimeField("用工方同意时间", null=True, blank=True)
    employer_agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="用工方同意人",
    )
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="拒绝人",
    )
    reject_reason = models.CharField("不同意的原因", max_length=300, blank=True)
    applied_at = models.DateTimeField("生效时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "调解延期"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One live proposal, and once applied no other: a case is extended once.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["proposed", "applied"]),
                name="extension_one_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"延期 {self.case_id} → {self.new_deadline:%Y-%m-%d}"


def _receipt_path(instance, filename: str) -> str:
    return random_name("recoveries", f"receipt.{EXTENSIONS.get(instance.receipt_type, 'bin')}")


class Recovery(models.Model):
    """线下追回: wages paid outside the platform on a case with no order (an oral complaint), recorded by
    the mediator with when and how, and a photo of the receipt."""

    class Method(models.TextChoices):
        CASH = "cash", "现金"
        TRANSFER = "transfer", "转账"
        OTHER = "other", "其他"

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="recoveries", verbose_name="纠纷案件"
    )
    amount_fen = models.PositiveIntegerField("金额（分）")
    paid_on = models.DateField("支付日期")
    method = models.CharField("支付方式", max_length=10, choices=Method.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    receipt = models.FileField("收据照片", upload_to=_receipt_path, blank=True)
    receipt_type = models.CharField(max_length=40, blank=True, verbose_name="凭证类型")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "线下追回工资"
        ordering = ["paid_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="recovery_amount_positive")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.amount_fen / 100:.2f}元 {self.get_method_display()}"
