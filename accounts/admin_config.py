"""Django's admin app, with the staff console's own site (:class:`accounts.admin_site.StaffAdminSite`) as
``admin.site``. Kept apart from ``accounts/apps.py``: a second AppConfig there would stop Django picking
``AccountsConfig`` on its own."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.StaffAdminSite"
