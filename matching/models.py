"""Matching (活找人): what was recommended to whom, the push waves of each post, employers' invitations, and
the city-wide batch of suggestions.

``Recommendation`` is the funnel: one row per (post, worker, channel) with its score and reason, when it was
sent (NULL when the notifications rules suppressed it), viewed and claimed. ``PostPush`` makes each push wave
of a post happen once, whatever retries or duplicate signals occur.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Channel(models.TextChoices):
    SMS = "sms", "短信推送"
    INAPP = "inapp", "站内推送"
    FOR_YOU = "for_you", "为你推荐"
    DIGEST = "digest", "每日推荐"
    INVITE = "invite", "雇主邀请"


class Recommendation(models.Model):
    post = models.ForeignKey("jobs.Post", on_delete=models.CASCADE, related_name="+", verbose_name="岗位")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="求职者"
    )
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    wave = models.PositiveSmallIntegerField("推送批次", default=0, help_text="1首次推送，2开工前补推，0其他")
    score = models.FloatField("匹配分")
    reason = models.CharField("推荐理由", max_length=120)
    created_at = models.DateTimeField("推荐时间", default=timezone.now)
    sent_at = models.DateTimeField(
        "送达时间", null=True, blank=True, help_text="空=被免打扰/未同意等规则拦下"
    )
    viewed_at = models.DateTimeField("查看时间", null=True, blank=True)
    claimed_at = models.DateTimeField("接单时间", null=True, blank=True)
    # The SMS link's short code (/r/<code>): random, 64 bits, so not guessable. Empty on rows that send no
    # link (shown in 为你推荐, digests) and on rows from before it (their long signed links still work).
    code = models.CharField("短链接码", max_length=16, unique=True, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "推荐记录"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "worker", "channel"], name="recommendation_once_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["worker", "post"], name="recommendation_pair"),
            models.Index(fields=["created_at"], name="recommendation_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} 岗位{self.post_id} → 用户{self.worker_id}"


class PostPush(models.Model):
    """One push wave of one post (1 = when it opens, 2 = still unfilled close to its start)."""

    post = models.ForeignKey("jobs.Post", on_delete=models.CASCADE, related_name="+", verbose_name="招工信息")
    wave = models.PositiveSmallIntegerField("批次")
    workers = models.PositiveIntegerField("推送人数", default=0)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "岗位推送批次"
        constraints = [models.UniqueConstraint(fields=["post", "wave"], name="post_push_once_per_wave")]

    def __str__(self) -> str:
        return f"岗位{self.post_id} 第{self.wave}批"


class Invitation(models.Model):
    """An employer asked this worker personally to take the post; the SMS carries a one-tap claim link."""

    post = models.ForeignKey("jobs.Post", on_delete=models.CASCADE, related_name="+", verbose_name="岗位")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="求职者"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="邀请人"
    )
    created_at = models.DateTimeField("邀请时间", default=timezone.now)
    expires_at = models.DateTimeField("链接失效时间")
    sms_sent = models.BooleanField("短信已发", default=False)
    accepted_at = models.DateTimeField("接受时间", null=True, blank=True)
    # The SMS link's short code (/i/<code>), as Recommendation.code.
    code = models.CharField("短链接码", max_length=16, unique=True, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "雇主邀请"
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["post", "worker"], name="invitation_once_per_pair")]

    def __str__(self) -> str:
        return f"邀请 岗位{self.post_id} → 用户{self.worker_id}"


class Suggestion(models.Model):
    """The nightly batch's top posts for each seeker (read by the digest); rewritten on every run."""

    # A derived table rewritten nightly with COPY: one index (worker, rank), for the digest, and no foreign
    # key constraints, whose checks at commit would cost more than the ranking (the ORM still cascades).
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name="零工",
    )
    post = models.ForeignKey(
        "jobs.Post",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name="招工信息",
    )
    rank = models.PositiveSmallIntegerField("名次")
    score = models.FloatField("匹配分")
    reason = models.CharField("推荐理由", max_length=120)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = verbose_name_plural = "批量推荐结果"
        constraints = [
            models.UniqueConstraint(fields=["worker", "rank"], name="suggestion_rank_per_worker"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="suggestion_rank_positive"),
        ]

    def __str__(self) -> str:
        return f"用户{self.worker_id} 第{self.rank} 岗位{self.post_id}"


class WorkerIndex(models.Model):
    """Retrieval index: one row per (seeker, wanted trade) with their town and place, so a post finds the
    seekers who want its trade in its town with one index range instead of intersecting the profile and
    wanted-trade tables. Kept current by signals on the profile and its trades, and rebuilt in full by the
    nightly batch (which also covers rows written in bulk, without signals)."""

    # Derived and rewritten nightly: only the two indexes below (the unique one serves lookups by user, the
    # composite one by trade) and no foreign key constraints to check at commit (the ORM still cascades).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name="用户",
    )
    trade = models.ForeignKey(
        "jobs.Trade",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name="工种",
    )
    area = models.ForeignKey(
        "accounts.Area",
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name="地区",
    )
    town = models.ForeignKey(
        "accounts.Area",
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name="乡镇",
    )
    lat = models.FloatField(null=True, verbose_name="纬度")
    lng = models.FloatField(null=True, verbose_name="经度")

    class Meta:
        verbose_name = verbose_name_plural = "求职者检索索引"
        constraints = [models.UniqueConstraint(fields=["user", "trade"], name="worker_index_once_per_trade")]
        indexes = [models.Index(fields=["trade", "town"], name="worker_index_trade_town")]

    def __str__(self) -> str:
        return f"用户{self.user_id} 工种{self.trade_id}"
