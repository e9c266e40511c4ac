from django.contrib import admin

from .models import Trade


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):
    """The trade catalogue (工种): insurer risk class and, for restricted trades, the certificate needed."""

    list_display = [
        "name",
        "category",
        "risk_class",
        "certificate_type",
        "restricted",
        "is_active",
        "sort_order",
    ]
    list_filter = ["category", "risk_class", "is_active", ("certificate_type", admin.EmptyFieldListFilter)]
    list_editable = ["is_active", "sort_order"]
    list_select_related = ["certificate_type"]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]

    @admin.display(description="限制性工种", boolean=True)
    def restricted(self, obj):
        return obj.requires_certificate
