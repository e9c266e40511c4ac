"""The outbox: every message is a row written in the same transaction as the event that causes it."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Message(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "短信"
        INAPP = "inapp", "站内消息"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    event_key = models.CharField("事件", max_length=120)
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices, default=Channel.SMS)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    phone = models.CharField("手机号", max_length=11, blank=True)
    template = models.CharField("模板", max_length=40)
    params = models.JSONField("参数", default=dict)
    body = models.TextField("内容")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
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
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.template}"
