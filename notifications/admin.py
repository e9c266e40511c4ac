from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

from core.masking import mask_phone
from core.scoping import ScopedAdminMixin
from core.services import audit_record, client_ip

from .models import Message, Preference, PreferenceEvent
from .templates_registry import BACKEND_LABELS, LABELS, backend_label, template_label


class TemplateFilter(admin.SimpleListFilter):
    title = "消息类型"
    parameter_name = "template"

    def lookups(self, request, model_admin):
        return sorted(LABELS.items(), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(template=self.value()) if self.value() else queryset


class BackendFilter(admin.SimpleListFilter):
    title = "发送通道"
    parameter_name = "backend"

    def lookups(self, request, model_admin):
        return list(BACKEND_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(backend=self.value()) if self.value() else queryset


@admin.register(Message)
class MessageAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The database outbox, kept to the staff member's point. One-time codes show redacted here (the row
    never holds one in clear, see models.Message.secret); only the delivery path reads them."""

    list_display = [
        "created_at",
        "channel",
        "masked_phone",
        "template_display",
        "body",
        "status",
        "backend_display",
        "attempts",
    ]
    list_filter = ["status", "channel", "marketing", TemplateFilter, BackendFilter]
    list_select_related = ["recipient"]
    search_fields = ["=phone", "event_key", "=out_id"]
    search_help_text = "可按完整手机号、事件或外部流水号查找"
    fields = [
        "created_at",
        "event_key",
        "channel",
        "recipient",
        "masked_phone",
        "template_display",
        "params",
        "body",
        "marketing",
        "status",
        "send_after",
        "attempts",
        "backend_display",
        "out_id",
        "provider_id",
        "lease_until",
        "last_error",
        "sent_at",
        "read_at",
    ]
    readonly_fields = fields
    date_hierarchy = "created_at"

    @admin.display(description="手机号")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description="消息类型", ordering="template")
    def template_display(self, obj):
        return template_label(obj.template)

    @admin.display(description="发送通道", ordering="backend")
    def backend_display(self, obj):
        return backend_label(obj.backend)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening one message is a look at someone's correspondence: written to the audit log, like an
        # ID unmask. The list is scoped (core.scoping), so another point's message is a 404 here.
        message = self.get_object(request, unquote(object_id))
        if message is None:
            raise Http404("未找到")
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit_record(
                actor=request.user,
                action="view_message",
                target=message,
                data={"template": message.template, "channel": message.channel},
                ip_address=client_ip(request),
            )
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Preference)
class PreferenceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: consent is given and withdrawn by the user (page, API or an SMS reply), never by staff."""

    list_display = ["user", "marketing_consent", "marketing_consent_at", *Preference.SWITCHES, "updated_at"]
    list_filter = ["marketing_consent"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "marketing_consent",
        "marketing_consent_at",
        *Preference.SWITCHES,
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PreferenceEvent)
class PreferenceEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The history of consent: who changed what, when, from where."""

    list_display = ["at", "user", "changes", "source", "actor"]
    list_filter = ["source"]
    list_select_related = ["user", "actor"]
    readonly_fields = ["at", "user", "changes", "source", "actor"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
