"""Staff console for jobs: the trade catalogue (editable), and read-only views of posts, claims and orders
with their full history. Changes to posts and orders go through the services (pages and API), never
through admin forms."""

from django.contrib import admin

from core.admin_display import EventInline, row_number
from core.masking import mask_name, mask_phone
from core.scoping import ScopedAdminMixin

from .models import Block, Claim, Contract, Order, OrderEvent, Post, Rating, Trade, WorkerStats


@admin.register(Trade)
class TradeAdmin(ScopedAdminMixin, admin.ModelAdmin):
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


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin):
    list_display = ["title", "employer", "trade", "pay_display", "slots_display", "starts_at", "mode", "status",
                    "on_behalf_by"]  # fmt: skip
    list_filter = ["status", "mode", "trade__category", "insurance_required", "district",
                   ("on_behalf_by", admin.EmptyFieldListFilter)]  # fmt: skip
    list_select_related = ["employer", "trade", "on_behalf_by"]
    search_fields = ["title", "employer__name"]
    date_hierarchy = "starts_at"
    exclude = ["search_tokens", "contact_phone"]
    readonly_fields = ["masked_contact"]

    @admin.display(description="报酬")
    def pay_display(self, obj):
        return f"{obj.pay_fen / 100:.2f}元/{obj.get_pay_unit_display()}"

    @admin.display(description="名额（剩余/总数）")
    def slots_display(self, obj):
        return f"{obj.slots_left}/{obj.slots}"

    @admin.display(description="联系电话")
    def masked_contact(self, obj):
        return mask_phone(obj.contact_phone)


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["post", "worker_display", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["post", "worker"]
    search_fields = ["post__title"]

    @admin.display(description="工人")
    def worker_display(self, obj):
        return f"{mask_name(obj.worker.name)} {mask_phone(obj.worker.phone)}"


class OrderEventInline(EventInline):
    model = OrderEvent
    status_choices = Order.Status


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [row_number, "post", "worker_display", "employer", "starts_at", "status", "amount_display",
                    "compensation_fen", "auto_approved"]  # fmt: skip
    list_filter = ["status", "auto_approved", "late_cancel", "cancelled_by"]
    list_select_related = ["post", "worker", "employer"]
    search_fields = ["post__title", "employer__name"]
    date_hierarchy = "starts_at"
    inlines = [OrderEventInline]

    @admin.display(description="工人")
    def worker_display(self, obj):
        return f"{mask_name(obj.worker.name)} {mask_phone(obj.worker.phone)}"

    @admin.display(description="报酬")
    def amount_display(self, obj):
        return "—" if obj.amount_fen is None else f"{obj.amount_fen / 100:.2f}元"


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["order", "template_version", "content_hash", "worker_signed_at", "employer_signed_at"]
    search_fields = ["content_hash"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["order", "direction", "stars", "comment", "created_at"]
    list_filter = ["direction", "stars"]


@admin.register(WorkerStats)
class WorkerStatsAdmin(ReadOnlyAdmin):
    list_display = ["user", "reliability", "completed", "no_shows", "late_cancels", "rating_count"]
    list_select_related = ["user"]
    ordering = ["reliability"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["employer", "worker", "reason", "created_at"]
    list_select_related = ["employer", "worker"]
