"""Staff views of the matching records (read-only: they are written by the services)."""

from django.contrib import admin

from core.scoping import ScopedAdminMixin

from .models import Invitation, PostPush, Recommendation


class ReadOnly(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnly):
    list_display = [
        "created_at",
        "channel",
        "wave",
        "post",
        "worker",
        "score",
        "reason",
        "sent_at",
        "viewed_at",
        "claimed_at",
    ]
    list_filter = ["channel", "wave"]
    list_select_related = ["post", "worker"]
    raw_id_fields = ["post", "worker"]
    date_hierarchy = "created_at"


@admin.register(PostPush)
class PostPushAdmin(ReadOnly):
    list_display = ["created_at", "post", "wave", "workers"]
    list_select_related = ["post"]
    raw_id_fields = ["post"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnly):
    list_display = ["created_at", "post", "worker", "invited_by", "sms_sent", "accepted_at", "expires_at"]
    list_select_related = ["post", "worker", "invited_by"]
    raw_id_fields = ["post", "worker", "invited_by"]
