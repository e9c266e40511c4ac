"""Wallet API routes, mounted under /api/v1/ in the "api" namespace (see gigmarket/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    # A worker's wallet.
    path("wallet/me/", api.MyWalletView.as_view(), name="wallet-me"),
    path("wallet/me/lines/", api.MyWalletLinesView.as_view(), name="wallet-me-lines"),
    path("wallet/me/withdrawals/", api.MyWithdrawalListView.as_view(), name="wallet-withdrawals"),
    path("wallet/me/withdrawals/<int:pk>/", api.MyWithdrawalDetailView.as_view(), name="wallet-withdrawal"),
    # An employer's escrow account.
    path("wallet/employers/<int:pk>/", api.EscrowView.as_view(), name="wallet-employer"),
    path("wallet/employers/<int:pk>/lines/", api.EscrowLinesView.as_view(), name="wallet-employer-lines"),
    path(
        "wallet/employers/<int:pk>/statement/",
        api.EscrowStatementView.as_view(),
        name="wallet-employer-statement",
    ),
    path("wallet/employers/<int:pk>/orders/", api.EscrowOrdersView.as_view(), name="wallet-employer-orders"),
    path("wallet/employers/<int:pk>/top-ups/", api.TopUpListView.as_view(), name="wallet-top-ups"),
    path("wallet/top-ups/<int:pk>/", api.TopUpDetailView.as_view(), name="wallet-top-up"),
    # Staff.
    path("wallet/staff/arrears/", api.ArrearsView.as_view(), name="wallet-arrears"),
    path("wallet/staff/accounts/<int:pk>/", api.StaffAccountView.as_view(), name="wallet-account"),
    path(
        "wallet/staff/accounts/<int:pk>/lines/",
        api.StaffAccountLinesView.as_view(),
        name="wallet-account-lines",
    ),
]
