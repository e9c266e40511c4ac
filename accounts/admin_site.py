"""The staff console's admin site: Django's, plus a second factor. The middleware
(:mod:`accounts.middleware`) already sends an unverified staff member to the verification page before any
admin view runs; the site refuses them too, so the console never rests on one check alone."""

from django.contrib.admin import AdminSite

from .second_factor import second_factor_passed


class StaffAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        return super().has_permission(request) and second_factor_passed(request)
