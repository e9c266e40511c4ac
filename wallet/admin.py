"""Staff view of the ledger: accounts with their balances and postings, read-only."""

from django.contrib import admin

from .models import Account, LedgerTransaction, Posting


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "amount_fen"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = ["pk", "kind", "employer", "order", "balance_fen", "created_at"]
    list_filter = ["kind"]
    search_fields = ["employer__name"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnly):
    list_display = ["pk", "kind", "order", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "memo"]
    inlines = [PostingInline]
