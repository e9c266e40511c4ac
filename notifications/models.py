"""The outbox and the people's choices about it.

Every message is a ``Message`` row written in the same transaction as the event that causes it; Celery
delivers it afterwards (see ``delivery.py``). ``Preference`` holds one user's consent to marketing-type
messages (recommendations) and per-type switches; ``PreferenceEvent`` keeps the history of consent, since
consent to commercial messages must be provable (广告法 art. 43).

A one-time code is never readable in a row: ``params`` and ``body`` hold it redacted (「验证码 ******」) and the
code itself sits Fernet-encrypted in ``secret``, read only by the delivery path (:meth:`Message.delivery_params`)
and wiped once the message is sent, given up, or past ``secret_until`` (see ``delivery.sweep``).
"""

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.crypto import EncryptedTextField
from core.display import local_datetime

from .templates_registry import render, template_label


class Message(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "短信"
        INAPP = "inapp", "站内消息"
        WEBPUSH = "webpush", "手机推送"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    event_key = models.CharField("事件", max_length=120)
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices, default=Channel.SMS)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name="收件人",
    )
    phone = models.CharField("手机号", max_length=11, blank=True)
    template = models.CharField("模板", max_length=40)
    params = models.JSONField("参数", default=dict)
    body = models.TextField("内容")
    # The template's secret variables (JSON), encrypted; for the gateway only. Never shown, never exported.
    secret = EncryptedTextField("保密参数", blank=True, default="", editable=False)
    secret_until = models.DateTimeField("保密参数有效期至", null=True, blank=True, editable=False)
    marketing = models.BooleanField("营销类", default=False)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    send_after = models.DateTimeField(
        "最早发送时间", null=True, blank=True, help_text="免打扰时段或重试等待：此前不发送"
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    # A delivery attempt claims the row in its own committed transaction (status SENDING, a fresh token, a
    # lease), calls the provider with ``out_id``, then marks it SENT only if its token still holds. A row
    # left in SENDING past its lease is reconciled by asking the provider about ``out_id`` first.
    claim_token = models.CharField("发送批次", max_length=32, blank=True)
    lease_until = models.DateTimeField("发送租约到期", null=True, blank=True)
    out_id = models.CharField("外部流水号", max_length=64, blank=True)
    backend = models.CharField("发送通道", max_length=20, blank=True)
    provider_id = models.CharField("回执编号", max_length=64, blank=True)
    last_error = models.CharField("错误", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now, db_index=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "消息发件箱"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "channel", "phone"], name="message_once_per_event")
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["phone", "-created_at"]),
            models.Index(
                fields=["channel", "send_after"],
                condition=Q(status__in=["pending", "sending"]),
                name="message_due",
            ),
            models.Index(
                fields=["recipient", "-created_at"], condition=Q(channel="inapp"), name="message_inbox"
            ),
            models.Index(fields=["secret_until"], condition=~Q(secret=""), name="message_secret_live"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {template_label(self.template)}"

    def delivery_params(self) -> dict:
        """The template variables the gateway gets: the stored ones plus the secret ones. Delivery only."""
        return {**self.params, **(json.loads(self.secret) if self.secret else {})}

    def delivery_text(self) -> str:
        """The text the phone shows (secret variables in clear). Delivery only."""
        return render(self.template, self.delivery_params(), channel=self.channel)

    @property
    def visible(self) -> bool:
        """An in-app message shows in the inbox once delivered (not before quiet hours end)."""
        return self.status == self.Status.SENT


class Preference(models.Model):
    """One user's message choices (created on first use). Transactional messages (codes, orders) ignore it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name="用户",
    )
    marketing_consent = models.BooleanField("同意接收推荐消息", default=False)
    marketing_consent_at = models.DateTimeField("同意时间", null=True, blank=True)
    sms_recommendations = models.BooleanField("岗位推荐短信", default=True)
    inapp_recommendations = models.BooleanField("岗位推荐站内消息", default=True)
    sms_activities = models.BooleanField("培训、招聘会活动短信", default=True)
    inapp_activities = models.BooleanField("培训、招聘会活动站内消息", default=True)
    push_recommendations = models.BooleanField("岗位推荐手机推送（叮咚）", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    SWITCHES = (
        "sms_recommendations",
        "inapp_recommendations",
        "sms_activities",
        "inapp_activities",
        "push_recommendations",
    )
    # (channel, marketing category) -> the switch that governs it; anything else is refused.
    SWITCH_FOR = {
        ("sms", "recommendation"): "sms_recommendations",
        ("inapp", "recommendation"): "inapp_recommendations",
        ("sms", "activity"): "sms_activities",
        ("inapp", "activity"): "inapp_activities",
        ("webpush", "recommendation"): "push_recommendations",
    }

    class Meta:
        verbose_name = verbose_name_plural = "消息偏好"

    def __str__(self) -> str:
        return f"消息偏好 {self.user_id}"

    def allows(self, *, channel: str, category: str) -> bool:
        switch = self.SWITCH_FOR.get((channel, category))
        return self.marketing_consent and switch is not None and bool(getattr(self, switch))


class PreferenceEvent(models.Model):
    """Append-only history of preference changes (who, when, what): the proof of consent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="用户"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    changes = models.JSONField("变更", default=dict)
    source = models.CharField("来源", max_length=20, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "消息偏好变更记录"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"消息偏好变更 {self.user_id} {local_datetime(self.at)}"


class PushSubscription(models.Model):
    """One browser's Web Push subscription (a phone with the site installed), for one person.

    The endpoint is a capability URL at the browser's push service and the two keys let us encrypt for that
    browser alone: all three are secrets, Fernet-encrypted at rest; ``endpoint_hash`` (a keyed HMAC) finds
    a row by its endpoint without holding it. Deleted when the push service answers 404/410 (the browser
    dropped it), when its owner switches it off, or when that person signs out on that browser."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name="用户",
    )
    endpoint = EncryptedTextField("推送地址")
    endpoint_hash = models.CharField("推送地址索引", max_length=64, unique=True, editable=False)
    p256dh = EncryptedTextField("加密公钥")
    auth = EncryptedTextField("认证密钥")
    label = models.CharField("设备", max_length=60, blank=True)
    created_at = models.DateTimeField("开启时间", default=timezone.now)
    last_success_at = models.DateTimeField("最近送达", null=True, blank=True)
    failures = models.PositiveSmallIntegerField("连续失败次数", default=0)
    # The last outbox row delivered here: a retried row skips the devices it already reached.
    last_message_id = models.BigIntegerField("最近送达的消息", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "手机推送订阅"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"手机推送 {self.label or self.pk}"

    def info(self) -> dict:
        """What pywebpush takes. Delivery only."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class VapidKey(models.Model):
    """The site's VAPID key pair when none is configured (GIGMARKET_WEBPUSH_VAPID_PRIVATE_KEY unset): made
    once, on first use, so a fresh clone pushes with no set-up. The private key is encrypted at rest."""

    name = models.CharField(max_length=20, unique=True, default="default")
    private_pem = EncryptedTextField("私钥")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "推送密钥"

    def __str__(self) -> str:
        return "推送密钥"
