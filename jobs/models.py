"""Jobs: the trade catalogue (工种), posts, claims (抢单/报名), orders, e-contracts, ratings and blocks.

Status fields change only through :mod:`jobs.services`; every order transition writes an :class:`OrderEvent`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Area, Employer, PayUnit, ServicePoint
from core.models import StatusEvent


class Trade(models.Model):
    class Category(models.TextChoices):
        CONSTRUCTION = "construction", "建筑装修"
        HOUSEKEEPING = "housekeeping", "家政保洁"
        LOGISTICS = "logistics", "搬运物流"
        AGRICULTURE = "agriculture", "农业采摘"
        CATERING = "catering", "餐饮服务"
        MANUFACTURING = "manufacturing", "生产制造"
        TRANSPORT = "transport", "交通运输"
        CARE = "care", "养老护理"
        SERVICES = "services", "生活服务"
        EDUCATION = "education", "教育培训"

    name = models.CharField("工种", max_length=30, unique=True)
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    risk_class = models.PositiveSmallIntegerField(
        "保险风险等级", validators=[MinValueValidator(1), MaxValueValidator(6)], help_text="1最低，6最高"
    )
    certificate_type = models.ForeignKey(
        "accounts.CertificateType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="所需证书",
        help_text="填写即为限制性工种：须持有效证书才能接单",
    )
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)

    class Meta:
        verbose_name = verbose_name_plural = "工种"
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(risk_class__gte=1, risk_class__lte=6), name="trade_risk_class_1_6"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def requires_certificate(self) -> bool:
        return self.certificate_type_id is not None


BOARD_FILTER_COLUMNS = ("starts_at", "pay_unit", "pay_fen", "trade", "area", "district")


def _keyset(name: str, *key: str) -> models.Index:
    """A keyset index of the public board: (status, *key, -id), carrying the other filter columns."""
    include = [c for c in BOARD_FILTER_COLUMNS if c not in key and f"-{c}" not in key]
    return models.Index(fields=["status", *key, "-id"], include=include, name=name)


class Post(models.Model):
    """A job post (招工信息): ``slots`` people wanted; ``slots_left`` falls by guarded UPDATE as claims
    are confirmed and can never go below zero (a database constraint)."""

    class Mode(models.TextChoices):
        GRAB = "grab", "抢单（先到先得）"
        APPLY = "apply", "报名（雇主挑选）"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        OPEN = "open", "招工中"
        FILLED = "filled", "已招满"
        CLOSED = "closed", "已关闭"
        CANCELLED = "cancelled", "已取消"
        EXPIRED = "expired", "已过期"

    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="posts", verbose_name="用工主体"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    on_behalf_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="代发工作人员",
    )
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, null=True, blank=True, verbose_name="发布网点"
    )
    trade = models.ForeignKey(Trade, on_delete=models.PROTECT, related_name="posts", verbose_name="工种")
    title = models.CharField("标题", max_length=60)
    description = models.TextField("工作内容", max_length=2000, blank=True)
    pay_fen = models.PositiveIntegerField("报酬（分）")
    pay_unit = models.CharField("计价单位", max_length=12, choices=PayUnit.choices)
    quantity = models.DecimalField(
        "预计数量", max_digits=8, decimal_places=2, default=Decimal("1"), help_text="每人预计的小时/天/件数"
    )
    slots = models.PositiveSmallIntegerField("招工人数")
    slots_left = models.PositiveSmallIntegerField("剩余名额")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="posts", verbose_name="地区")
    district = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="district_posts", verbose_name="区县", editable=False
    )
    address = models.CharField("详细地址", max_length=200)
    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    starts_at = models.DateTimeField("开工时间")
    ends_at = models.DateTimeField("收工时间")
    mode = models.CharField("接单方式", max_length=8, choices=Mode.choices, default=Mode.GRAB)
    insurance_required = models.BooleanField("要求意外险", default=False)
    contact_name = models.CharField("联系人", max_length=40)
    contact_phone = models.CharField("联系电话", max_length=11)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    # A reported post is hidden (closed) while staff check it; this is the status it comes back to. While it
    # is set the post still counts as taking claims for its money: a freed slot's pay returns to its hold.
    hidden_from = models.CharField(
        "举报核实前状态",
        max_length=10,
        blank=True,
        default="",
        editable=False,
        help_text="非空即因举报暂时下架",
    )
    search_tokens = models.TextField(editable=False, default="", verbose_name="搜索词")
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "招工信息"
        ordering = ["-published_at", "-pk"]
        permissions = [("post_on_behalf", "可代用工主体发布岗位")]
        constraints = [
            models.CheckConstraint(condition=Q(slots__gte=1, slots__lte=500), name="post_slots_1_500"),
            models.CheckConstraint(condition=Q(slots_left__lte=F("slots")), name="post_slots_left_lte_slots"),
            models.CheckConstraint(condition=Q(pay_fen__gte=1), name="post_pay_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="post_ends_after_start"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="post_quantity_positive"),
        ]
        indexes = [
            # Keyset pages seek (status, [filter,] key, id) with a row comparison (jobs.selectors.board): the
            # whole board, one trade, one district, one street or village, one pay unit, under each sort.
            # Every column a board filter reads is carried along, so the other filters are checked on the
            # index entries (an index-only scan) instead of a table row per entry (migration jobs 0014).
            _keyset("post_open_newest", "-published_at"),
            _keyset("post_open_pay", "-pay_fen"),
            _keyset("post_open_trade", "trade", "-published_at"),
            _keyset("post_open_trade_pay", "trade", "-pay_fen"),
            _keyset("post_open_district", "district", "-published_at"),
            _keyset("post_open_district_pay", "district", "-pay_fen"),
            _keyset("post_open_area", "area", "-published_at"),
            _keyset("post_open_area_pay", "area", "-pay_fen"),
            _keyset("post_open_unit", "pay_unit", "-published_at"),
            _keyset("post_open_unit_pay", "pay_unit", "-pay_fen"),
            models.Index(fields=["status", "lat", "lng"], name="post_open_geo"),
            # The farthest open post from a visitor: min/max of lat (post_open_geo) and lng, index end points.
            models.Index(fields=["status", "lng"], name="post_open_lng"),
            models.Index(fields=["status", "starts_at"], name="post_open_start"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def expected_amount_fen(self) -> int:
        return int((Decimal(self.pay_fen) * self.quantity).to_integral_value())


class Claim(models.Model):
    """A worker's 抢单 (grab: confirmed at once) or 报名 (apply: waits for the employer). One per worker
    per post."""

    class Status(models.TextChoices):
        PENDING = "pending", "待雇主确认"
        CONFIRMED = "confirmed", "已确认"
        REJECTED = "rejected", "未录用"
        WITHDRAWN = "withdrawn", "已撤回"
        EXPIRED = "expired", "已过期"
        UNDONE = "undone", "未成单"  # a 抢单 whose order could not be made (jobs/followon.py)

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="claims", verbose_name="招工信息")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims", verbose_name="零工"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    note = models.CharField("留言", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    reject_reason = models.CharField("原因", max_length=200, blank=True)
    # A confirmed 抢单 whose order (escrow, policy, contract, messages) is still to be made by the
    # follow-on (jobs/followon.py): set in the grab's own short transaction, cleared when the order exists
    # or the claim is undone. The recovery sweep finds these rows through the partial index.
    order_pending = models.BooleanField("订单生成中", default=False, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "接单/报名"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["post", "worker"], name="claim_one_per_worker_per_post")
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["worker", "-created_at"]),
            models.Index(fields=["worker"], condition=Q(order_pending=True), name="claim_order_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.post} · {self.worker}"


class Order(models.Model):
    """One worker on one post, from confirmation to completion."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "已确认"
        CHECKED_IN = "checked_in", "已签到"
        CHECKED_OUT = "checked_out", "已签退"
        COMPLETED = "completed", "已完工"
        CANCELLED = "cancelled", "已取消"
        NO_SHOW = "no_show", "未到岗"
        DISPUTED = "disputed", "有争议"

    ACTIVE = (Status.CONFIRMED, Status.CHECKED_IN, Status.CHECKED_OUT)

    claim = models.OneToOneField(
        Claim, on_delete=models.PROTECT, related_name="order", verbose_name="抢单/报名"
    )
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="orders", verbose_name="招工信息")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name="零工"
    )
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="orders", verbose_name="用工主体"
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    starts_at = models.DateTimeField("开工时间")
    ends_at = models.DateTimeField("收工时间")
    confirmed_at = models.DateTimeField("确认时间", default=timezone.now)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    checked_out_at = models.DateTimeField("签退时间", null=True, blank=True)
    completed_at = models.DateTimeField("完工时间", null=True, blank=True)
    worker_quantity = models.DecimalField(
        "工人填报数量", max_digits=8, decimal_places=2, null=True, blank=True
    )
    approved_quantity = models.DecimalField("确认数量", max_digits=8, decimal_places=2, null=True, blank=True)
    amount_fen = models.PositiveIntegerField("应付报酬（分）", null=True, blank=True)
    paid_fen = models.PositiveIntegerField("已付报酬（分）", default=0)
    settled_at = models.DateTimeField(
        "结清时间", null=True, blank=True, help_text="报酬全部付到工人钱包的时间"
    )
    auto_approved = models.BooleanField("超时自动确认", default=False)
    cancelled_by = models.CharField("取消方", max_length=10, blank=True)
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)
    late_cancel = models.BooleanField("迟取消", default=False)
    compensation_fen = models.PositiveIntegerField("补偿（分）", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "订单"
        ordering = ["-starts_at", "-pk"]
        indexes = [
            models.Index(fields=["worker", "status", "starts_at"]),
            models.Index(fields=["employer", "status", "-starts_at"]),
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["status", "checked_out_at"]),
        ]

    def __str__(self) -> str:
        return f"订单{self.pk} {self.post}"


class OrderEvent(StatusEvent):
    """Append-only history of an order: every transition, who made it, and its data."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name="订单")

    class Meta(StatusEvent.Meta):
        verbose_name = verbose_name_plural = "订单记录"

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status}→{self.to_status}"


class Contract(models.Model):
    """电子协议: the service agreement of one order, fixed by its content hash, confirmed by both sides
    with an SMS code."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="contract", verbose_name="订单"
    )
    body = models.TextField("协议内容")
    content_hash = models.CharField("内容摘要(SHA-256)", max_length=64)
    template_version = models.CharField("模板版本", max_length=20)
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

    class Meta:
        verbose_name = verbose_name_plural = "电子协议"

    def __str__(self) -> str:
        return f"协议 订单{self.order_id}"

    @property
    def is_signed(self) -> bool:
        return bool(self.worker_signed_at and self.employer_signed_at)


class Rating(models.Model):
    class Direction(models.TextChoices):
        WORKER_TO_EMPLOYER = "w2e", "工人评雇主"
        EMPLOYER_TO_WORKER = "e2w", "雇主评工人"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="ratings", verbose_name="订单")
    direction = models.CharField(max_length=3, choices=Direction.choices, verbose_name="评价方向")
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="评价人"
    )
    stars = models.PositiveSmallIntegerField("星级", validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.CharField("评价", max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "评价"
        constraints = [
            models.UniqueConstraint(fields=["order", "direction"], name="rating_once_per_side"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.stars}星"


class WorkerStats(models.Model):
    """Counters behind a worker's reliability and stars, kept by the order and rating services."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="worker_stats", verbose_name="用户"
    )
    completed = models.PositiveIntegerField(default=0, verbose_name="完成单数")
    no_shows = models.PositiveIntegerField(default=0, verbose_name="爽约次数")
    late_cancels = models.PositiveIntegerField(default=0, verbose_name="迟取消次数")
    rating_sum = models.PositiveIntegerField(default=0, verbose_name="评分总和")
    rating_count = models.PositiveIntegerField(default=0, verbose_name="评价次数")
    reliability = models.PositiveSmallIntegerField("靠谱分", default=100)

    class Meta:
        verbose_name = verbose_name_plural = "工人信用"

    def __str__(self) -> str:
        return f"{self.user} 靠谱分{self.reliability}"

    @property
    def stars(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None


class Block(models.Model):
    """An employer will not hire this worker again (拉黑); their claims on its posts are refused."""

    employer = models.ForeignKey(
        Employer, on_delete=models.CASCADE, related_name="blocks", verbose_name="用工主体"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="零工"
    )
    reason = models.CharField("原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "拉黑名单"
        constraints = [models.UniqueConstraint(fields=["employer", "worker"], name="block_unique")]

    def __str__(self) -> str:
        return f"{self.employer} ✕ {self.worker}"
