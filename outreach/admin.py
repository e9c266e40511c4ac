"""Staff console for outreach: articles and courses are edited here (courses through
:func:`outreach.services.course_save`, so seats stay consistent); follow-ups, sign-ups, training needs and
imports are read-only here — they are worked on the outreach staff pages. Lists are scoped to the staff
member's service points (core.scoping)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from core.admin_display import row_number
from core.errors import DomainError
from core.masking import mask_name
from core.scoping import ScopedAdminMixin

from . import services
from .models import Article, Course, Enrollment, FollowUp, FollowUpCall, ImportBatch, TrainingNeed


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "category", "is_published", "published_at", "sort_order", "updated_at"]
    list_filter = ["category", "is_published"]
    list_editable = ["is_published", "sort_order"]
    search_fields = ["title", "body"]
    readonly_fields = ["published_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        # The date shown to readers is the first publication.
        if obj.is_published and obj.published_at is None:
            obj.published_at = timezone.now()
        super().save_model(request, obj, form, change)


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["title", "trade", "description", "starts_on", "ends_on", "schedule", "place", "service_point",
                  "seats", "is_free", "fee_note", "status", "is_published"]  # fmt: skip

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "结课日期不能早于开课日期")
        seats = data.get("seats")
        if self.instance.pk and seats is not None:
            taken = self.instance.seats - self.instance.seats_left
            if seats < taken:
                self.add_error("seats", f"已有{taken}人报名，名额不能少于报名人数")
        return data


@admin.register(Course)
class CourseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = CourseForm
    list_display = ["title", "trade", "starts_on", "ends_on", "service_point", "seats", "seats_left", "status",
                    "is_published"]  # fmt: skip
    list_filter = ["status", "is_published", "trade", "service_point"]
    list_select_related = ["trade", "service_point"]
    search_fields = ["title"]
    date_hierarchy = "starts_on"

    def has_delete_permission(self, request, obj=None):
        return False  # sign-ups point at the course: cancel it instead

    def save_model(self, request, obj, form, change):
        try:
            services.course_save(course=obj, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = [row_number, "worker_display", "order", "service_point", "status", "due_on", "attempts", "satisfaction",
                    "wage_paid_in_full", "needs_help"]  # fmt: skip
    list_filter = ["status", "needs_help", "wage_paid_in_full", "service_point"]
    list_select_related = ["worker", "service_point", "order"]
    date_hierarchy = "due_on"

    @admin.display(description="工人")
    def worker_display(self, obj):
        return mask_name(obj.worker.name)


@admin.register(FollowUpCall)
class FollowUpCallAdmin(ReadOnlyAdmin):
    list_display = ["followup", "actor", "reached", "from_status", "to_status", "created_at"]


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ["course", "worker", "status", "created_at", "certificate_code"]
    list_filter = ["status"]
    list_select_related = ["course", "worker"]
    search_fields = ["certificate_code"]


@admin.register(TrainingNeed)
class TrainingNeedAdmin(ReadOnlyAdmin):
    list_display = ["trade", "worker", "source", "service_point", "created_at"]
    list_filter = ["trade", "source"]
    list_select_related = ["trade", "worker", "service_point"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "filename",
        "kind",
        "staff",
        "service_point",
        "status",
        "row_count",
        "error_count",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    exclude = ["content", "result"]
