"""Staff view of the ledger: accounts with their balances and postings, read-only."""

from django.contrib import admin

from core.admin_display import EventInline, row_number
from core.scoping import ScopedAdminMixin

from .models import Account, LedgerTransaction, PaymentEvent, Posting, TopUp, Withdrawal


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "amount_fen"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnly(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = [row_number, "kind", "employer", "order", "balance_fen", "created_at"]
    list_filter = ["kind"]
    search_fields = ["employer__name"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnly):
    list_display = [row_number, "kind", "order", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "memo"]
    inlines = [PostingInline]


class PaymentEventInline(EventInline):
    model = PaymentEvent
    status_choices = (TopUp.Status, Withdrawal.Status)


@admin.register(TopUp)
class TopUpAdmin(ReadOnly):
    list_display = ["out_trade_no", "employer", "amount_fen", "status", "gateway", "created_at", "paid_at"]
    list_filter = ["status", "gateway"]
    search_fields = ["out_trade_no", "gateway_ref", "employer__name"]
    exclude = ["idempotency_key", "request_hash"]
    inlines = [PaymentEventInline]


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnly):
    """The card number is shown masked only; the encrypted column never reaches the admin."""

    list_display = ["out_trade_no", "worker", "amount_fen", "card_masked", "status", "attempts", "created_at"]
    list_filter = ["status", "gateway"]
    search_fields = ["out_trade_no", "gateway_ref"]
    exclude = ["card_number", "idempotency_key", "request_hash"]
    inlines = [PaymentEventInline]
