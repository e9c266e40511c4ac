from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from knox.models import AuthToken

from .display import local_datetime
from .models import AuditLog
from .scoping import ScopedAdminMixin, SuperuserOnlyAdminMixin


@admin.register(AuditLog)
class AuditLogAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Who looked at or decided what: append-only and hash-chained, so read-only here for everyone
    (``manage.py verify_audit_log`` checks the chain)."""

    list_display = ["created_at", "actor", "action", "target_type", "target_id", "reason", "ip_address"]
    list_filter = ["action", "target_type", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["actor"]
    search_fields = ["=target_id", "reason", "=actor__phone"]
    search_help_text = "可按对象编号、原因或操作人手机号查找"
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "reason",
        "ip_address",
        "data",
        "prev_hash",
        "row_hash",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApiTokenAdmin(admin.ModelAdmin):
    """knox's token list, in Chinese (its model has English names and no translation)."""

    list_display = ["token_prefix", "user", "created_display", "expiry_display"]
    search_fields = ["token_key", "user__phone"]
    fields = ["token_prefix", "user", "created_display", "expiry_display"]
    readonly_fields = fields

    @admin.display(description="令牌前缀")
    def token_prefix(self, obj):
        return obj.token_key

    @admin.display(description="创建时间", ordering="created")
    def created_display(self, obj):
        return local_datetime(obj.created)

    @admin.display(description="过期时间", ordering="expiry")
    def expiry_display(self, obj):
        return local_datetime(obj.expiry)

    def has_add_permission(self, request):
        return False  # tokens are made by logging in through the API, never typed in here

    def changelist_view(self, request, extra_context=None):
        # knox's model has an English verbose name and no translation.
        return super().changelist_view(request, {"title": "选择接口令牌来查看", **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(
            request, object_id, form_url, {"title": "查看接口令牌", **(extra_context or {})}
        )


if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)
admin.site.register(AuthToken, ApiTokenAdmin)


# The libraries' own consoles (groups and their permissions, API tokens, lock-out records with phones and
# addresses) are about access itself: superusers only, whatever a staff member's permissions say. Their
# admin modules are imported before this one (INSTALLED_APPS order), so they are wrapped here.
for _model in (Group, AuthToken, AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        _existing = type(admin.site._registry[_model])
        admin.site.unregister(_model)
        admin.site.register(
            _model,
            type(
                f"SuperuserOnly{_existing.__name__}",
                (SuperuserOnlyAdminMixin, ScopedAdminMixin, _existing),
                {},
            ),
        )
