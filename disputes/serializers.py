"""API shapes of the disputes area. A party's view never carries the mediator's notes, session minutes,
internal events or messages addressed to the other side."""

from __future__ import annotations

from rest_framework import serializers

from .models import Agreement, Case, Evidence, Session


class CaseFileSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)
    category = serializers.ChoiceField(
        choices=[c for c in Case.Category.values if c != Case.Category.FAKE_POST]
    )
    description = serializers.CharField(max_length=2000)
    amount_claimed_fen = serializers.IntegerField(required=False, allow_null=True)
    request = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DisputeCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=6)


class DisputeReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class CaseListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Case
        fields = ["id", "number", "category", "category_label", "status", "status_label", "order", "filed_at",
                  "deadline_at", "amount_claimed_fen", "recovered_fen", "owed_fen"]  # fmt: skip


class EvidenceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "side", "note", "created_at", "url"]

    def get_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("disputes:evidence_file", args=[obj.pk])


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Session
        fields = ["id", "starts_at", "room", "attendees"]  # no minutes: they are the mediator's


class AgreementSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Agreement
        fields = ["id", "status", "status_label", "body", "content_hash", "worker_amount_fen", "pay_by", "terms",
                  "worker_signed_at", "employer_signed_at", "mediator_signed_at", "reject_reason", "created_at"]  # fmt: skip


class TimelineSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    text = serializers.CharField()
    kind = serializers.CharField()


class CaseDetailSerializer(CaseListSerializer):
    side = serializers.CharField()
    mediator_name = serializers.CharField(allow_null=True)
    evidence = EvidenceSerializer(many=True)
    sessions = SessionSerializer(many=True)
    agreement = AgreementSerializer(allow_null=True)
    timeline = TimelineSerializer(many=True)

    class Meta(CaseListSerializer.Meta):
        fields = [*CaseListSerializer.Meta.fields, "request", "description", "respondent_name", "side",
                  "mediator_name", "evidence", "sessions", "agreement", "timeline"]  # fmt: skip
