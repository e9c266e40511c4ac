"""Admin for cases: read-mostly. Decisions (accept, assign, decline, transfer) go through the staff pages
(/disputes/staff/), which call the services; the admin never edits a status by hand."""

from django.contrib import admin

from core.admin_display import EventInline
from core.masking import mask_phone
from core.scoping import ScopedAdminMixin

from .models import Agreement, Case, CaseEvent, Evidence, Session, Transfer

# CaseEvent.kind is free text written by the services; these are the ones they write.
EVENT_KINDS = {
    "status": "状态变化",
    "assign": "分派调解员",
    "deadline": "调解期限",
    "evidence": "证据",
    "message": "留言",
    "session": "调解安排",
    "agreement": "调解协议",
}


class CaseEventInline(EventInline):
    model = CaseEvent
    status_choices = Case.Status
    fields = ["created_at", "actor", "kind_display", "transition", "details", "public"]
    readonly_fields = fields

    @admin.display(description="类型")
    def kind_display(self, obj):
        return EVENT_KINDS.get(obj.kind, obj.kind)


@admin.register(Case)
class CaseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("case_number", "category", "status", "complainant_side", "respondent_name", "mediator", "filed_at",
                    "deadline_at", "recovered_fen")  # fmt: skip
    list_filter = ("status", "category", "channel")
    search_fields = ("respondent_name",)
    date_hierarchy = "filed_at"
    inlines = [CaseEventInline]
    # Personal data: the complainant's phone is shown masked; the full one only through the audited
    # "party contact" view of the case page.
    readonly_fields = [f.name if f.name != "complainant_phone" else "masked_complainant_phone"
                       for f in Case._meta.fields]  # fmt: skip
    exclude = ("complainant_phone",)

    @admin.display(description="案件编号", ordering="pk")
    def case_number(self, obj):
        return obj.number

    @admin.display(description="申请人电话")
    def masked_complainant_phone(self, obj):
        return mask_phone(obj.complainant_phone) or "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agreement)
class AgreementAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("case", "status", "worker_amount_fen", "worker_signed_at", "employer_signed_at",
                    "mediator_signed_at")  # fmt: skip
    readonly_fields = [f.name for f in Agreement._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model in (Evidence, Session, Transfer):
    admin.site.register(
        model,
        type(f"{model.__name__}Admin", (ScopedAdminMixin, admin.ModelAdmin), {
            "readonly_fields": [f.name for f in model._meta.fields],
            "has_add_permission": lambda self, request: False,
            "has_delete_permission": lambda self, request, obj=None: False,
        }),
    )  # fmt: skip
