"""Wallet pages, mounted at /wallet/: a worker's wallet and withdrawals, an employer's escrow account,
top-ups and statements, the gateway's notification endpoint, and the staff's wage-supervision pages."""

from django.urls import path

from . import views

app_name = "wallet"
urlpatterns = [
    # a worker's wallet
    path("", views.my_wallet, name="mine"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("withdrawals/<int:pk>/", views.withdrawal_detail, name="withdrawal_detail"),
    # an employer's escrow account
    path("escrow/", views.escrow_home, name="escrow_home"),
    path("escrow/<int:pk>/", views.escrow, name="escrow"),
    path("escrow/<int:pk>/top-up/", views.top_up, name="top_up"),
    path("escrow/<int:pk>/statement/", views.statement, name="statement"),
    path("escrow/<int:pk>/statement.csv", views.statement_csv, name="statement_csv"),
    path("top-ups/<int:pk>/", views.top_up_detail, name="top_up_detail"),
    # the payment gateway's asynchronous notification (signed; no session, no CSRF token)
    path("notify/", views.payment_notify, name="notify"),
    # staff
    path("staff/arrears/", views.arrears, name="arrears"),
    path("staff/accounts/", views.staff_accounts, name="staff_accounts"),
    path("staff/accounts/<int:pk>/", views.staff_account_ledger, name="staff_ledger"),
]
