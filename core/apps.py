from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "公共"

    def ready(self) -> None:
        from django.conf import settings
        from PIL import Image

        from . import checks  # noqa: F401  (registers the media checks)

        # Any Image.open in the process, not only core.uploads, refuses an image above the upload cap.
        Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_IMAGE_PIXELS
        _register_scopes()
        _chinese_titles()


def _register_scopes() -> None:
    """Staff scoping (core.scoping) of the audit log and of the access records of the libraries."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from knox.models import AuthToken

    from .models import AuditLog  # after the apps registry loads
    from .scoping import scope_by_point, scope_superuser_only  # after the apps registry loads

    # Who looked at or decided what: the actor's point (a station's manager reviews their clerks).
    scope_by_point(AuditLog, "actor__service_point")
    reason = "access itself: granting permissions, live API tokens, lock-out records (phones and addresses)"
    for model in (Group, AuthToken, AccessAttempt, AccessLog, AccessFailureLog):
        scope_superuser_only(model, reason=reason)


def _chinese_titles() -> None:
    """The libraries' records title their console pages (heading, breadcrumbs) with English and a raw UTC
    time (「Access Log for 137… @ 2026-12-07 08:45:08.471910+00:00」); the console shows who and when in
    Chinese local time. ``__str__`` is no part of a model's migration state."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from knox.models import AuthToken

    from .display import local_datetime  # after the apps registry loads, as the models above

    def lockout_title(record) -> str:
        return f"{record.username} · {local_datetime(record.attempt_time)}"

    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.__str__ = lockout_title
    AuthToken.__str__ = lambda token: f"{token.token_key}… · {local_datetime(token.created)}"
