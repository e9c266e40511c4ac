"""The staff console's admin site: Django's, plus a second factor. The middleware
(:mod:`accounts.middleware`) already sends an unverified staff member to the verification page before any
admin view runs; the site refuses them too, so the console never rests on one check alone."""

from django.contrib.admin import AdminSite

from .second_factor import second_factor_passed

# The libraries' apps have English names and no Chinese translation (``locale/`` covers their lazy strings).
MODEL_NAMES = {"AuthToken": "接口令牌"}
APP_NAMES = {"axes": "登录锁定", "knox": "接口令牌", "otp_totp": "身份验证器", "otp_static": "恢复码"}


class StaffAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        return super().has_permission(request) and second_factor_passed(request)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            app["name"] = APP_NAMES.get(app["app_label"], app["name"])
            for model in app["models"]:
                model["name"] = MODEL_NAMES.get(model["object_name"], model["name"])
        return apps
