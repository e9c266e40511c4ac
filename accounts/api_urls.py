"""Account API routes, mounted under /api/v1/ in the "api" namespace (see gigmarket/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("employers", api.EmployerViewSet, basename="employer")
router.register("certificates", api.CertificateViewSet, basename="certificate")
router.register("certificate-types", api.CertificateTypeViewSet, basename="certificate-type")
router.register("service-points", api.ServicePointViewSet, basename="service-point")
router.register("staff/realnames", api.StaffRealNameViewSet, basename="staff-realname")
router.register("staff/employers", api.StaffEmployerViewSet, basename="staff-employer")
router.register("staff/certificates", api.StaffCertificateViewSet, basename="staff-certificate")

urlpatterns = [
    path("auth/codes/", api.CodeView.as_view(), name="auth-codes"),
    path("auth/register/", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login/", api.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", api.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/password-reset/", api.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password/", api.PasswordChangeView.as_view(), name="auth-password-change"),
    path("me/", api.MeView.as_view(), name="me"),
    path("me/profile/", api.MyProfileView.as_view(), name="me-profile"),
    path("me/realname/", api.MyRealNameView.as_view(), name="me-realname"),
    path(
        "staff/assisted-registrations/",
        api.AssistedRegistrationView.as_view(),
        name="staff-assisted-registrations",
    ),
    path(
        "staff/assisted-registrations/confirm/",
        api.AssistedConfirmView.as_view(),
        name="staff-assisted-registrations-confirm",
    ),
    *router.urls,
]
