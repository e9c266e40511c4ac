"""The audit log: who looked at or decided what, and why. Append-only and hash-chained.

Each row carries the SHA-256 of its own canonical content together with the previous row's hash, so
editing, deleting or inserting a row anywhere but at the end breaks the chain, and ``manage.py
verify_audit_log`` names the first broken row. On PostgreSQL a trigger refuses UPDATE and DELETE outright
(migration 0003); a unique ``prev_hash`` means two writers can never fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

GENESIS_HASH = ""  # the first row's prev_hash


class AuditLog(models.Model):
    class Action(models.TextChoices):
        UNMASK_ID = "unmask_id", "查看完整证件号"
        UNMASK_CONTACT = "unmask_contact", "查看当事人联系方式"
        DECISION = "decision", "审核决定"
        ASSISTED_REGISTRATION = "assisted_registration", "代注册"
        RESET_SECOND_FACTOR = "reset_second_factor", "重置二次验证（身份验证器）"
        BULK_IMPORT_REGISTRATION = "bulk_import_registration", "批量导入代注册"
        BULK_IMPORT_VILLAGERS = "bulk_import_villagers", "批量导入村民"
        BULK_IMPORT_POSTS = "bulk_import_posts", "批量代发岗位"
        UNMASK_PHONE = "unmask_phone", "查看完整手机号"
        VIEW_MESSAGE = "view_message", "查看短信发件箱记录"
        VIEW_ID_PHOTO = "view_id_photo", "查看身份证照片"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, verbose_name="操作人"
    )
    action = models.CharField("操作", max_length=40, choices=Action.choices)
    target_type = models.CharField("对象类型", max_length=60)
    target_id = models.CharField("对象编号", max_length=40)
    reason = models.CharField("原因", max_length=300, blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    prev_hash = models.CharField("上一条摘要", max_length=64, default=GENESIS_HASH, editable=False)
    row_hash = models.CharField("本条摘要", max_length=64, default="", editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        constraints = [models.UniqueConstraint(fields=["prev_hash"], name="auditlog_chain_no_fork")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_label()}#{self.target_id}"

    def target_label(self) -> str:
        """``accounts.user`` in words (用户); the stored label when the model is gone."""
        try:
            return str(apps.get_model(self.target_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.target_type

    def compute_hash(self) -> str:
        return chain_hash(self)


def chain_hash(entry) -> str:
    """SHA-256 of a row's canonical content: fixed field order, UTC microseconds, sorted JSON keys, the
    IP in its standard spelling — the same bytes whichever database stored the row. Takes any object with
    the fields (migrations pass their historical model)."""
    created = entry.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ip = str(ipaddress.ip_address(entry.ip_address)) if entry.ip_address else None
    fields = [
        entry.prev_hash,
        created,
        entry.actor_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.reason,
        entry.data,
        ip,
    ]
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class StatusEvent(models.Model):
    """One row of an append-only history: a status change (from → to), who made it (None: the system), when,
    and what went with it. Each app's ``*Event`` adds the thing it is the history of; its service writes a
    row in the same transaction as the change (docs/architecture.md)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="操作人"
    )
    from_status = models.CharField("原状态", max_length=12, blank=True)
    to_status = models.CharField("新状态", max_length=12)
    data = models.JSONField("详情", default=dict, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]


class RateCounter(models.Model):
    """A rate-limit window counted in the database while the shared cache is down (``core.ratelimit``)."""

    name = models.CharField("计数键（哈希）", max_length=64, unique=True)
    count = models.PositiveIntegerField("次数", default=0)
    expires_at = models.DateTimeField("过期时间", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "限流计数"

    def __str__(self) -> str:
        return f"{self.name[:12]}… {self.count}"
