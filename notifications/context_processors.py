"""``unread_notifications`` for the navigation bar: one COUNT, only for a signed-in user."""

from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    # Lazy: pages that do not show the badge pay nothing.
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user=user))}
