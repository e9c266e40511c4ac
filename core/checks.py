"""System checks for how uploads are served: the media directory must never be reachable except through
the checked view (``MEDIA_URL`` → ``accounts.files.protected_file``), whatever the settings module."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register
from django.urls import Resolver404, get_resolver


def _overlaps(a, b) -> bool:
    first, second = Path(a).resolve(), Path(b).resolve()
    return first == second or first in second.parents or second in first.parents


@register()
def media_is_not_served_directly(app_configs, **kwargs) -> list[Error]:
    errors = []
    media = settings.MEDIA_ROOT
    served = [
        ("STATIC_ROOT", settings.STATIC_ROOT),
        ("WHITENOISE_ROOT", getattr(settings, "WHITENOISE_ROOT", None)),
        *(("STATICFILES_DIRS", d if isinstance(d, str | Path) else d[1]) for d in settings.STATICFILES_DIRS),
    ]
    for name, directory in served:
        if media and directory and _overlaps(media, directory):
            message = f"MEDIA_ROOT overlaps {name}: uploads would be served without a permission check."
            errors.append(Error(message, id="core.E001"))
    try:
        match = get_resolver().resolve(f"{settings.MEDIA_URL}licences/x.png")
    except Resolver404:
        match = None
    if match is None or match.url_name != "protected-file":
        errors.append(
            Error("MEDIA_URL must route to the checked file view (protected-file).", id="core.E002")
        )
    return errors
