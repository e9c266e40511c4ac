"""Shapes of the matching API."""

from __future__ import annotations

from rest_framework import serializers

from core.masking import mask_name, mask_phone
from jobs.serializers import board_item

from .models import Invitation


class RecommendationSerializer(serializers.Serializer):
    post = serializers.SerializerMethodField()
    score = serializers.FloatField(help_text="匹配分 0–100")
    reason = serializers.CharField(help_text="推荐理由，如“想干小工 · 离您3公里 · 日薪高于期望”")
    distance_km = serializers.FloatField(allow_null=True)

    def get_post(self, obj) -> dict:
        return board_item(obj.post)


class RecommendedWorkerSerializer(serializers.Serializer):
    worker = serializers.IntegerField(source="worker.pk", help_text="邀请时用")
    name = serializers.SerializerMethodField(help_text="打码的姓名")
    phone = serializers.SerializerMethodField(help_text="打码的手机号")
    score = serializers.FloatField()
    reason = serializers.CharField()
    distance_km = serializers.FloatField(allow_null=True)
    reliability = serializers.IntegerField(help_text="靠谱分 0–100")
    stars = serializers.FloatField(allow_null=True)
    completed = serializers.IntegerField()
    invited = serializers.BooleanField()

    def get_name(self, obj) -> str:
        realname = getattr(obj.worker, "realname", None)
        return mask_name(realname.name if realname else obj.worker.name)

    def get_phone(self, obj) -> str:
        return mask_phone(obj.worker.phone)


class InvitationCreateSerializer(serializers.Serializer):
    worker = serializers.IntegerField(min_value=1, help_text="推荐工人列表里的 worker")


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "post", "worker", "created_at", "expires_at", "sms_sent", "accepted_at"]
