"""Admin for cases: read-mostly. Decisions (accept, assign, decline, transfer) go through the staff pages
(/disputes/staff/), which call the services; the admin never edits a status by hand."""

from django.contrib import admin

from core.masking import mask_phone
from core.scoping import ScopedAdminMixin

from .models import Agreement, Case, CaseEvent, Evidence, Session, Transfer


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "kind", "from_status", "to_status", "data", "public")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "category", "status", "complainant_side", "respondent_name", "mediator", "filed_at",
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
