"""长辈模式 (a mode for older users): larger type, fewer menu entries, higher contrast, a 朗读 button.

Where it is remembered: on the account (``User.elder_mode``, so it follows the person to another phone)
and in a cookie on the device (so the login and registration pages, and anyone not signed in, get it too).
Signed in, the account decides; signed out, the cookie does. The header's button sets both."""

from __future__ import annotations

from django.conf import settings

COOKIE = "gm_elder"
COOKIE_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chromium caps at 400 days)


def elder_mode_on(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(getattr(user, "elder_mode", False))
    return request.COOKIES.get(COOKIE) == "1"


def set_elder_cookie(response, *, on: bool, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        "1" if on else "0",
        max_age=COOKIE_AGE,
        samesite="Lax",
        httponly=True,
        secure=secure or settings.SESSION_COOKIE_SECURE,
    )


def elder_mode(request) -> dict:
    """Context processor: ``elder_mode`` for base.html (the body's class, the header's button)."""
    return {"elder_mode": elder_mode_on(request)}
