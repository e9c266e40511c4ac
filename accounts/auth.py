"""API authentication: knox tokens, where a staff or mediator token lives only ``STAFF_IDLE_TIMEOUT`` past
its last use (the API's side of the 30-minute idle rule for staff sessions). Staff tokens come only from a
login that checked the second factor (``accounts.api.LoginView``).

One query per request (the 7 a.m. 抢单 rush is 1,600 of them at once): the token with its user and the
user's real-name (every claim asks ``is_verified``), compiled once and run prepared (``core/prepared.py``).
knox itself also reads all the user's other tokens on every request to delete expired ones; here that
housekeeping runs when the token is renewed (at most once an hour per token, ``MIN_REFRESH_INTERVAL`` in
settings) — an expired token is still refused on every request.
"""

from __future__ import annotations

import binascii
import datetime as dt
from hmac import compare_digest

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from core import prepared

from .second_factor import needs_second_factor

# The tokens with this key, with their user and the user's real-name: compiled once, run prepared
# (core/prepared.py) — every API request asks it.
_CANDIDATES = prepared.Loader(
    lambda key: get_token_model().objects.filter(token_key=key).select_related("user", "user__realname"),
    key="\x01sentinel-token-key",
)


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token):
        """knox's check, in one query (module docstring)."""
        msg = _("Invalid token.")
        token = token.decode("utf-8")
        for auth_token in _CANDIDATES.all(key=token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                username = auth_token.user.get_username()
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=username, source="auth_token")
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error) as exc:
                raise exceptions.AuthenticationFailed(msg) from exc
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

    def renew_token(self, auth_token) -> None:
        if not needs_second_factor(auth_token.user):
            before = auth_token.expiry
            super().renew_token(auth_token)
            if auth_token.expiry - before > dt.timedelta(seconds=knox_settings.MIN_REFRESH_INTERVAL):
                self._cleanup_token(auth_token)  # renewed (written): the user's expired tokens go too
            return None
        new_expiry = timezone.now() + settings.STAFF_IDLE_TIMEOUT
        if auth_token.expiry != new_expiry:
            auth_token.expiry = new_expiry
            auth_token.save(update_fields=["expiry"])
            self._cleanup_token(auth_token)
        return None


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI description of this class is knox's."""

    target_class = "accounts.auth.TokenAuthentication"
