"""API authentication: knox tokens, where a staff or mediator token lives only ``STAFF_IDLE_TIMEOUT`` past
its last use (the API's side of the 30-minute idle rule for staff sessions). Staff tokens come only from a
login that checked the second factor (``accounts.api.LoginView``)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication

from .second_factor import needs_second_factor


class TokenAuthentication(KnoxTokenAuthentication):
    def renew_token(self, auth_token) -> None:
        if not needs_second_factor(auth_token.user):
            return super().renew_token(auth_token)
        new_expiry = timezone.now() + settings.STAFF_IDLE_TIMEOUT
        if auth_token.expiry != new_expiry:
            auth_token.expiry = new_expiry
            auth_token.save(update_fields=["expiry"])
        return None


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI description of this class is knox's."""

    target_class = "accounts.auth.TokenAuthentication"
