from django.apps import AppConfig

from core.scoping import scope_by_point


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "消息通知"

    def ready(self) -> None:
        _register_scopes()


def _register_scopes() -> None:
    """Staff scoping (core.scoping): a message is its recipient's; one to a number with no account
    (a registration code) belongs to the top of the tree."""
    from .models import Message, Preference, PreferenceEvent  # after the apps registry loads

    scope_by_point(Message, "recipient__service_point")
    scope_by_point(Preference, "user__service_point")
    scope_by_point(PreferenceEvent, "user__service_point")
