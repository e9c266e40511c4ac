from django.apps import AppConfig

from core.console import StaffAction, register_action
from core.scoping import scope_by_point


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "钱包与结算"

    def ready(self) -> None:
        _register_scopes()
        register_action(
            StaffAction(
                key="wallet_arrears",
                label="欠薪预警",
                hint="已完工未付款的订单",
                permissions=("wallet.view_account",),
                url_name="wallet:arrears",
                order=50,
            )
        )


def _register_scopes() -> None:
    """Staff scoping (core.scoping): an account is its owner's (employer, worker, order, post); platform
    accounts and transactions of no order belong to the top of the tree."""
    from .models import (  # after the apps registry loads
        Account,
        LedgerTransaction,
        PaymentEvent,
        Posting,
        TopUp,
        Withdrawal,
    )

    account_paths = (
        "employer__service_point",
        "user__service_point",
        "order__post__service_point",
        "order__worker__service_point",
        "post__service_point",
    )
    scope_by_point(Account, *account_paths)
    scope_by_point(Posting, *(f"account__{p}" for p in account_paths))
    scope_by_point(LedgerTransaction, "order__post__service_point", "order__worker__service_point")
    scope_by_point(TopUp, "employer__service_point")
    scope_by_point(Withdrawal, "worker__service_point")
    scope_by_point(PaymentEvent, "top_up__employer__service_point", "withdrawal__worker__service_point")
