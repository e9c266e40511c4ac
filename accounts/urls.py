"""Account pages. The home page is mounted at the project level as ``home`` (see gigmarket/urls.py)."""

from django.urls import path

from . import second_factor_views, views

app_name = "accounts"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("code/<str:purpose>/", views.send_code, name="send_code"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("logout/all/", views.logout_all, name="logout_all"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("me/profile/", views.profile, name="profile"),
    path("elder-mode/", views.elder_mode, name="elder_mode"),
    path("me/security/", views.security, name="security"),
    path("me/realname/", views.realname, name="realname"),
    path("me/certificates/", views.certificates, name="certificates"),
    path("employers/", views.employer_list, name="employer_list"),
    path("employers/new/", views.employer_create, name="employer_create"),
    path("employers/<int:pk>/", views.employer_detail, name="employer_detail"),
    path("employers/<int:pk>/resubmit/", views.employer_resubmit, name="employer_resubmit"),
    path("employers/<int:pk>/members/", views.employer_member_add, name="employer_member_add"),
    path("2fa/enrol/", second_factor_views.enrol, name="second_factor_enrol"),
    path("2fa/verify/", second_factor_views.verify, name="second_factor_verify"),
    path("2fa/recovery-codes/", second_factor_views.recovery_codes, name="second_factor_recovery"),
    path("staff/assisted/", views.assisted_register, name="assisted_register"),
    path("staff/assisted/confirm/", views.assisted_confirm, name="assisted_confirm"),
]
