"""Staff console for the hall: open-data tokens (made and revoked through hall.services; the token is shown
once), the pull log, kiosk sessions and the daily snapshots — the last three read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from core.scoping import ScopedAdminMixin

from . import services
from .models import ExportPull, ExportToken, KioskSession, SupplyDemandSnapshot


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ExportTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label="授权范围", choices=ExportToken.Scope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ExportToken
        fields = ["name", "scopes", "expires_at"]

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        if value <= timezone.now():
            raise forms.ValidationError("有效期必须晚于现在")
        return value


@admin.register(ExportToken)
class ExportTokenAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = ExportTokenForm
    list_display = ["name", "prefix", "scopes", "expires_at", "revoked_at", "last_used_at", "created_by"]
    list_filter = ["revoked_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scopes", "expires_at"]
        return [
            "name",
            "prefix",
            "scopes",
            "expires_at",
            "created_by",
            "created_at",
            "revoked_at",
            "last_used_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        # A token's grant never changes after it is made: revoke it and make another.
        return self.get_fields(request, obj) if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # pulls refer to it; revoke instead

    def save_model(self, request, obj, form, change):
        if change:
            return
        # The form checked what the service checks (name, scopes, a future expiry).
        record, token = services.export_token_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data["expires_at"],
            actor=request.user,
        )
        obj.pk = record.pk
        obj.__dict__.update(record.__dict__)
        messages.warning(
            request,
            f"令牌（只显示这一次，请立即复制并安全交给对方；平台只保存其摘要）：{token}",
        )

    @admin.action(description="吊销所选令牌", permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.export_token_revoke(token=token, actor=request.user)
            count += 1
        self.message_user(request, f"已吊销 {count} 个令牌", messages.SUCCESS)


@admin.register(ExportPull)
class ExportPullAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "token", "endpoint", "status_code", "row_count", "client_address", "params"]
    list_filter = ["endpoint", "status_code"]
    date_hierarchy = "created_at"


@admin.register(KioskSession)
class KioskSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "service_point",
        "state",
        "via",
        "created_at",
        "last_seen_at",
        "ended_at",
        "end_reason",
    ]
    list_filter = ["state", "service_point"]
    exclude = ["token_hash"]


@admin.register(SupplyDemandSnapshot)
class SupplyDemandSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["day", "trade", "area", "seekers", "openings", "posts_open"]
    list_filter = ["day", "trade"]
    date_hierarchy = "day"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("trade", "area")
