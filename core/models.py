"""The audit log: who looked at or decided what, and why. Append-only."""

from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    class Action(models.TextChoices):
        UNMASK_ID = "unmask_id", "查看完整证件号"
        DECISION = "decision", "审核决定"
        ASSISTED_REGISTRATION = "assisted_registration", "代注册"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    action = models.CharField("操作", max_length=40, choices=Action.choices)
    target_type = models.CharField("对象类型", max_length=60)
    target_id = models.CharField("对象编号", max_length=40)
    reason = models.CharField("原因", max_length=300, blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("IP", null=True, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_type}#{self.target_id}"


class RateCounter(models.Model):
    """A rate-limit window counted in the database while the shared cache is down (``core.ratelimit``)."""

    name = models.CharField("计数键（哈希）", max_length=64, unique=True)
    count = models.PositiveIntegerField("次数", default=0)
    expires_at = models.DateTimeField("过期时间", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "限流计数"

    def __str__(self) -> str:
        return f"{self.name[:12]}… {self.count}"
