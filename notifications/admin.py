from django.contrib import admin

from core.masking import mask_phone

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The database outbox: in the default set-up this is where SMS (including codes) can be read."""

    list_display = ["created_at", "channel", "masked_phone", "template", "body", "status", "backend"]
    list_filter = ["status", "channel", "template", "backend"]
    list_select_related = ["recipient"]
    search_fields = ["=phone", "event_key"]
    search_help_text = "可按完整手机号或事件查找"
    fields = [
        "created_at",
        "event_key",
        "channel",
        "recipient",
        "masked_phone",
        "template",
        "params",
        "body",
        "status",
        "attempts",
        "backend",
        "provider_id",
        "last_error",
        "sent_at",
        "read_at",
    ]
    readonly_fields = fields
    date_hierarchy = "created_at"

    @admin.display(description="手机号")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
