from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out

from core.scoping import scope_by_point, scope_superuser_only


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "消息通知"

    def ready(self) -> None:
        _register_scopes()
        user_logged_out.connect(_push_off_on_sign_out, dispatch_uid="notifications.push_off_on_sign_out")


def _register_scopes() -> None:
    """Staff scoping (core.scoping): a message is its recipient's; one to a number with no account
    (a registration code) belongs to the top of the tree."""
    from .models import Message, Preference, PreferenceEvent, PushSubscription, VapidKey  # after the registry

    scope_by_point(Message, "recipient__service_point")
    scope_by_point(Preference, "user__service_point")
    scope_by_point(PreferenceEvent, "user__service_point")
    scope_by_point(PushSubscription, "user__service_point")
    scope_superuser_only(VapidKey, reason="the site's push signing key")


def _push_off_on_sign_out(sender, request, user, **kwargs) -> None:
    """Signing out on a browser stops that browser's pushes (the subscriptions it turned on in this
    session): the next person on a shared phone never gets the previous one's."""
    from .push import SESSION_KEY, subscriptions_signed_out  # after the apps registry loads

    if request is not None and hasattr(request, "session"):
        subscriptions_signed_out(user=user, subscription_ids=request.session.get(SESSION_KEY))
