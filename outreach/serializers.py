"""Outreach API shapes. Workers see courses, their sign-ups and articles; staff see follow-ups with the
worker's phone masked (the staff page shows it in full to place the call)."""

from __future__ import annotations

from rest_framework import serializers

from core.masking import mask_name, mask_phone
from jobs.models import Trade

from .models import Article, Course, Enrollment, FollowUp, FollowUpCall, TrainingNeed


class CourseSerializer(serializers.ModelSerializer):
    trade = serializers.CharField(source="trade.name")
    service_point = serializers.CharField(source="service_point.name")
    signup_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Course
        fields = ["id", "title", "trade", "description", "starts_on", "ends_on", "schedule", "place",
                  "service_point", "seats", "seats_left", "is_free", "fee_note", "status", "signup_open"]  # fmt: skip


class EnrollmentSerializer(serializers.ModelSerializer):
    course = CourseSerializer()
    status_display = serializers.CharField(source="get_status_display")
    certificate_url = serializers.SerializerMethodField()

    class Meta:
        model = Enrollment
        fields = ["id", "course", "status", "status_display", "created_at", "certificate_code",
                  "certificate_issued_at", "certificate_url"]  # fmt: skip

    def get_certificate_url(self, obj: Enrollment) -> str | None:
        if obj.status != Enrollment.Status.COMPLETED:
            return None
        from django.urls import reverse

        return reverse("outreach:certificate_pdf", args=[obj.pk])


class TrainingNeedsSerializer(serializers.Serializer):
    trades = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Trade.objects.filter(is_active=True), help_text="想学的工种编号，最多5个"
    )


class TrainingNeedSerializer(serializers.ModelSerializer):
    trade = serializers.CharField(source="trade.name")
    trade_id = serializers.IntegerField()

    class Meta:
        model = TrainingNeed
        fields = ["trade_id", "trade", "source", "created_at"]


CATEGORY_HELP = "类别：" + "，".join(f"{value} {label}" for value, label in Article.Category.choices)


class ArticleListSerializer(serializers.ModelSerializer):
    # A plain string: an enum here would collide with other apps' "category" enums in the schema.
    category = serializers.CharField(help_text=CATEGORY_HELP)

    class Meta:
        model = Article
        fields = ["id", "title", "category", "summary", "published_at"]


class ArticleSerializer(serializers.ModelSerializer):
    category = serializers.CharField(help_text=CATEGORY_HELP)

    class Meta:
        model = Article
        fields = ["id", "title", "category", "summary", "body", "source", "published_at", "updated_at"]


class FollowUpCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUpCall
        fields = ["reached", "from_status", "to_status", "created_at"]


class FollowUpSerializer(serializers.ModelSerializer):
    worker_name = serializers.SerializerMethodField()
    worker_phone = serializers.SerializerMethodField()
    post_title = serializers.CharField(source="order.post.title")
    employer = serializers.CharField(source="order.employer.name")
    is_overdue = serializers.BooleanField(read_only=True)
    training_trade = serializers.CharField(source="training_trade.name", default=None)

    class Meta:
        model = FollowUp
        fields = ["id", "order_id", "worker_name", "worker_phone", "post_title", "employer", "service_point_id",
                  "status", "first_due_on", "due_on", "is_overdue", "attempts", "reached", "outcome",
                  "satisfaction", "wage_paid_in_full", "needs_help", "wants_training", "training_trade",
                  "done_at"]  # fmt: skip

    def get_worker_name(self, obj: FollowUp) -> str:
        return mask_name(obj.worker.name)

    def get_worker_phone(self, obj: FollowUp) -> str:
        return mask_phone(obj.worker.phone)


class FollowUpCallCreateSerializer(serializers.Serializer):
    reached = serializers.BooleanField()
    outcome = serializers.ChoiceField(
        choices=FollowUp.Outcome.choices, required=False, allow_blank=True, default=""
    )
    satisfaction = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, default=None
    )
    wage_paid_in_full = serializers.BooleanField(required=False, allow_null=True, default=None)
    needs_help = serializers.BooleanField(required=False, default=False)
    wants_training = serializers.BooleanField(required=False, default=False)
    training_trade = serializers.PrimaryKeyRelatedField(
        queryset=Trade.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
