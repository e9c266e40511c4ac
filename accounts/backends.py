"""Authentication by SMS one-time code, and the phone normaliser django-axes uses to count failures."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import ValidationError

from core.errors import DomainError

from .models import PhoneCode, User
from .services import phone_code_check
from .validators import normalize_phone


def axes_username(request, credentials) -> str | None:
    """Failures are counted per normalised number, however the user typed it."""
    raw = (credentials or {}).get("phone") or (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("phone") if hasattr(request, "POST") else None
    try:
        return normalize_phone(raw or "")
    except ValidationError:
        return raw


class PhoneCodeBackend(BaseBackend):
    """``authenticate(request, phone=..., code=...)``: logs in with a live login code.

    The login page and API do not use it: they call ``services.user_login_by_code``, outside django-axes, so
    a number locked by wrong passwords still signs in by code. It stays for sessions signed in through it."""

    def authenticate(self, request, phone=None, code=None, **kwargs):
        if phone is None or code is None:
            return None
        try:
            normalized = normalize_phone(phone)
            user = User.objects.get(phone=normalized, is_active=True)
            phone_code_check(phone=normalized, purpose=PhoneCode.Purpose.LOGIN, code=code)
        except (ValidationError, DomainError, User.DoesNotExist):
            return None
        return user

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id, is_active=True).first()
