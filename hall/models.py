"""The hall: daily supply/demand snapshots behind the dashboard, kiosk sessions, and the open-data export's
tokens and pull log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone

from accounts.models import Area, ServicePoint


class SupplyDemandSnapshot(models.Model):
    """One day's seekers available and open slots for one trade in one area (the finest area known: a
    post's area; a seeker's profile area, else their service point's area). Written by the daily beat
    task so the dashboard has history; today is computed live."""

    day = models.DateField("日期")
    trade = models.ForeignKey("jobs.Trade", on_delete=models.CASCADE, related_name="+", verbose_name="工种")
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="区域"
    )
    seekers = models.PositiveIntegerField("可上岗求职者", default=0)
    openings = models.PositiveIntegerField("空缺名额", default=0)
    posts_open = models.PositiveIntegerField("在招岗位", default=0)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="创建时间")

    class Meta:
        verbose_name = verbose_name_plural = "供需日快照"
        ordering = ["-day", "trade_id"]
        constraints = [
            models.UniqueConstraint(fields=["day", "trade", "area"], name="hall_snapshot_one_per_cell"),
            models.UniqueConstraint(
                fields=["day", "trade"], condition=Q(area__isnull=True), name="hall_snapshot_one_unplaced"
            ),
        ]
        indexes = [models.Index(fields=["day", "area"])]
        permissions = [
            ("view_dashboard", "可查看数据看板"),
            ("export_dashboard", "可导出数据看板"),
        ]

    def __str__(self) -> str:
        return f"{formats.date_format(self.day, 'DATE_FORMAT')} · 工种{self.trade_id} · 区域{self.area_id}"


class KioskSession(models.Model):
    """A short sign-in at a hall kiosk (求职机). Not a site login: the kiosk never holds the user's
    session. The browser keeps only a random token (HttpOnly cookie limited to the kiosk's path); the row
    keeps its hash. It ends on 完成, on inactivity, or when a new sign-in starts."""

    class State(models.TextChoices):
        CODE_SENT = "code_sent", "已发验证码"
        ACTIVE = "active", "已登录"
        ENDED = "ended", "已结束"

    token_hash = models.CharField(max_length=64, unique=True, verbose_name="令牌摘要")
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.CASCADE, related_name="+", verbose_name="网点"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="求职者"
    )
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.CODE_SENT)
    via = models.CharField("登录方式", max_length=10, default="phone")
    created_at = models.DateTimeField("开始", default=timezone.now)
    last_seen_at = models.DateTimeField("最后操作", default=timezone.now)
    ended_at = models.DateTimeField("结束", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=20, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "求职机会话"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "last_seen_at"])]

    def __str__(self) -> str:
        return f"求职机#{self.pk} {self.get_state_display()}"


class ExportToken(models.Model):
    """A credential of the provincial data centre (or another exchange) for the open-data API. Only a
    SHA-256 of the token is stored; the token itself is shown once, when it is made."""

    class Scope(models.TextChoices):
        POSTS = "posts", "岗位"
        DEALS = "deals", "成交"
        FIGURES = "figures", "汇总指标"

    name = models.CharField("名称", max_length=80, help_text="如：省大数据中心")
    prefix = models.CharField("前缀", max_length=12, editable=False, help_text="用于辨认，不能用来访问")
    token_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name="令牌摘要")
    scopes = models.JSONField("授权范围", default=list)
    expires_at = models.DateTimeField("有效期至")
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name="创建人",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "数据交换令牌"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ExportPull(models.Model):
    """Append-only log of every open-data request: accepted or refused."""

    token = models.ForeignKey(
        ExportToken,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pulls",
        verbose_name="令牌",
    )
    endpoint = models.CharField("接口", max_length=40)
    params = models.JSONField("参数", default=dict, blank=True)
    status_code = models.PositiveSmallIntegerField("结果", default=200)
    row_count = models.PositiveIntegerField("行数", default=0)
    client_address = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "数据交换记录"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status_code} {self.row_count}行"
