"""Outreach models: follow-up calls after placement (回访), trainings (培训) with sign-ups and certificates,
training needs, policy and rights articles (就业政策、权益保障), and staff bulk imports.

Status fields change only through :mod:`outreach.services`; every change writes an event row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.crypto import EncryptedTextField
from core.models import StatusEvent

# ---------------------------------------------------------------------------------------- follow-ups


class FollowUp(models.Model):
    """A staff task to call a worker after a completed order: one per order."""

    class Status(models.TextChoices):
        OPEN = "open", "待回访"
        DONE = "done", "已回访"
        UNREACHABLE = "unreachable", "多次未联系上"

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", "干得顺利"
        SEEKING = "seeking", "在找新活"
        PROBLEM = "problem", "遇到问题"
        OTHER = "other", "其他"

    order = models.OneToOneField(
        "jobs.Order", on_delete=models.PROTECT, related_name="followup", verbose_name="订单"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups", verbose_name="零工"
    )
    service_point = models.ForeignKey(
        "accounts.ServicePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name="负责网点",
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.OPEN)
    first_due_on = models.DateField("应回访日期")
    due_on = models.DateField("下次回访日期")
    attempts = models.PositiveSmallIntegerField("拨打次数", default=0)
    reached = models.BooleanField("联系上", null=True, blank=True)
    outcome = models.CharField("回访结果", max_length=12, choices=Outcome.choices, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        "满意度", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    wage_paid_in_full = models.BooleanField("工钱足额到手", null=True, blank=True)
    needs_help = models.BooleanField("需要帮助", default=False)
    wants_training = models.BooleanField("想参加培训", default=False)
    training_trade = models.ForeignKey(
        "jobs.Trade", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="想学"
    )
    notes = models.TextField("备注", max_length=1000, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="回访人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "回访任务"
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["service_point", "status", "due_on"]),
            models.Index(fields=["created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="followup_satisfaction_1_5",
            )
        ]

    def __str__(self) -> str:
        return f"回访#{self.pk} 订单{self.order_id}"

    @property
    def is_overdue(self) -> bool:
        limit = settings.OUTREACH_FOLLOWUP_OVERDUE_DAYS
        return self.status == self.Status.OPEN and (timezone.localdate() - self.first_due_on).days > limit


class FollowUpCall(models.Model):
    """Append-only: every call attempt (reached or not) and the status change it made."""

    followup = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="calls", verbose_name="回访"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    reached = models.BooleanField("联系上")
    from_status = models.CharField(max_length=12, verbose_name="原状态")
    to_status = models.CharField(max_length=12, verbose_name="新状态")
    data = models.JSONField(default=dict, blank=True, verbose_name="详情")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "回访记录"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"回访#{self.followup_id} {'联系上' if self.reached else '未接通'}"


# ----------------------------------------------------------------------------------------- trainings


class Course(models.Model):
    """A training course (技能培训). ``seats_left`` is only changed by guarded UPDATEs in the services."""

    class Status(models.TextChoices):
        OPEN = "open", "报名中"
        CANCELLED = "cancelled", "已取消"

    title = models.CharField("课程名称", max_length=60)
    trade = models.ForeignKey(
        "jobs.Trade", on_delete=models.PROTECT, related_name="+", verbose_name="技能/工种"
    )
    description = models.TextField("课程内容", max_length=2000, blank=True)
    starts_on = models.DateField("开课日期")
    ends_on = models.DateField("结课日期")
    schedule = models.CharField("上课时间", max_length=60, blank=True, help_text="如：每天 9:00–16:00")
    place = models.CharField("上课地点", max_length=200)
    service_point = models.ForeignKey(
        "accounts.ServicePoint", on_delete=models.PROTECT, related_name="courses", verbose_name="主办网点"
    )
    seats = models.PositiveSmallIntegerField(
        "名额", validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    seats_left = models.PositiveSmallIntegerField("剩余名额", editable=False)
    is_free = models.BooleanField("免费", default=True)
    fee_note = models.CharField("费用说明", max_length=100, blank=True, help_text="不免费时说明收费或补贴")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    is_published = models.BooleanField("公开报名", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "培训课程"
        ordering = ["starts_on", "pk"]
        indexes = [models.Index(fields=["status", "is_published", "starts_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(seats_left__lte=models.F("seats")), name="course_seats_left_le_seats"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="course_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def signup_open(self) -> bool:
        return (
            self.status == self.Status.OPEN
            and self.is_published
            and self.starts_on >= timezone.localdate()
            and self.seats_left > 0
        )


class Enrollment(models.Model):
    """A worker's sign-up for a course; at most one live sign-up per worker and course."""

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", "已报名"
        CANCELLED = "cancelled", "已取消"
        ATTENDED = "attended", "已到课"
        ABSENT = "absent", "缺课"
        COMPLETED = "completed", "已结业"

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="enrollments", verbose_name="培训课程"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments", verbose_name="零工"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.SIGNED_UP)
    created_at = models.DateTimeField("报名时间", default=timezone.now)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    certificate_code = models.CharField("证书核验码", max_length=16, null=True, blank=True, unique=True)
    certificate_issued_at = models.DateTimeField("发证时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "培训报名"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "worker"],
                condition=~Q(status="cancelled"),
                name="enrollment_one_live_per_worker",
            )
        ]

    def __str__(self) -> str:
        return f"{self.course} · {self.worker}"


class EnrollmentEvent(StatusEvent):
    """Append-only record of every sign-up status change."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="events", verbose_name="报名"
    )

    class Meta(StatusEvent.Meta):
        verbose_name = verbose_name_plural = "报名记录"

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.from_status}→{self.to_status}"


class TrainingNeed(models.Model):
    """A skill a worker wants to learn (培训需求调查), said on the page or during a follow-up call."""

    class Source(models.TextChoices):
        SURVEY = "survey", "本人填写"
        FOLLOWUP = "followup", "回访登记"

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_needs", verbose_name="零工"
    )
    trade = models.ForeignKey(
        "jobs.Trade", on_delete=models.PROTECT, related_name="+", verbose_name="想学的技能"
    )
    service_point = models.ForeignKey(
        "accounts.ServicePoint",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="服务网点",
    )
    source = models.CharField("来源", max_length=10, choices=Source.choices)
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "培训需求"
        constraints = [models.UniqueConstraint(fields=["worker", "trade"], name="training_need_unique")]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.worker} 想学 {self.trade}"


# ------------------------------------------------------------------------------------------ articles


class Article(models.Model):
    """就业政策、权益保障: staff write them in the admin; only published ones are shown."""

    class Category(models.TextChoices):
        POLICY = "policy", "就业政策"
        RIGHTS = "rights", "权益保障"
        SUBSIDY = "subsidy", "补贴申领"
        SAFETY = "safety", "安全常识"

    title = models.CharField("标题", max_length=80)
    category = models.CharField("类别", max_length=10, choices=Category.choices)
    summary = models.CharField("摘要", max_length=200, blank=True)
    body = models.TextField("正文", max_length=20000, help_text="空一行分段")
    source = models.CharField("来源/依据", max_length=200, blank=True)
    is_published = models.BooleanField("发布", default=False)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)

    class Meta:
        verbose_name = verbose_name_plural = "政策与权益文章"
        ordering = ["sort_order", "-published_at", "-pk"]
        indexes = [models.Index(fields=["is_published", "category"])]

    def __str__(self) -> str:
        return self.title

    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]


# -------------------------------------------------------------------------------------------- import


class ImportBatch(models.Model):
    """One uploaded spreadsheet: previewed, then imported as a whole or not at all. The file holds ID
    numbers, so it is stored encrypted, and emptied once imported."""

    class Kind(models.TextChoices):
        VILLAGERS = "villagers", "村民登记"
        POSTS = "posts", "代发岗位"

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "待确认"
        IMPORTED = "imported", "已导入"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="导入人"
    )
    service_point = models.ForeignKey(
        "accounts.ServicePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="服务网点",
    )
    employer = models.ForeignKey(
        "accounts.Employer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="用工主体",
    )
    filename = models.CharField("文件名", max_length=200)
    content = EncryptedTextField("文件内容（加密）", blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    row_count = models.PositiveIntegerField("行数", default=0)
    error_count = models.PositiveIntegerField("有误行数", default=0)
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    imported_at = models.DateTimeField("导入时间", null=True, blank=True)
    result = models.JSONField("导入结果", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量导入"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"
