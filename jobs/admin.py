from django.contrib import admin

from .models import Trade


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "risk_class", "certificate_type", "is_active", "sort_order"]
    list_filter = ["category", "risk_class", "is_active"]
    list_editable = ["is_active", "sort_order"]
    search_fields = ["name"]
