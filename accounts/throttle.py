"""Failed logins counted per client address, so one client cannot spray passwords (or codes) across many
numbers. Per-number counting stays with django-axes (password logins only, see settings); this is its
address-side companion.

Past the limit an address waits — a 429 with ``Retry-After`` and 「请稍后再试（N 秒）」, no CAPTCHA — and
its attempts are not processed at all, so they count against no number: spraying from one address can
no longer lock out the workers it tried. Nothing is ever locked for good. Addresses listed as a hall's
kiosks (``LOGIN_KIOSK_NETWORKS``) get a higher limit, since a whole hall signs in from them.

Counting uses ``core.ratelimit.hit`` (the shared fixed-window counter); the "wait until" mark is one
cache key. If the cache is unreachable the address check is skipped (logged): the per-number limits in the
database still hold, and a cache outage must not stop every login.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

from core import ratelimit
from core.errors import RateLimited

logger = logging.getLogger("gigmarket.accounts")

SCOPES = ("password", "code")


@lru_cache(maxsize=8)
def _kiosk_networks(networks: tuple[str, ...]):
    return tuple(ipaddress.ip_network(n, strict=False) for n in networks)


def is_kiosk(address: str | None) -> bool:
    """Is this client address one of the hall's kiosks (settings ``LOGIN_KIOSK_NETWORKS``)?"""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _kiosk_networks(tuple(settings.LOGIN_KIOSK_NETWORKS)))


def limit_for(*, scope: str, address: str | None) -> tuple[int, int]:
    """(failures allowed, window in seconds) for this address."""
    failures, window = settings.LOGIN_ADDRESS_FAILURES[scope]
    if is_kiosk(address):
        failures *= settings.LOGIN_KIOSK_FACTOR
    return failures, window


def _wait_key(scope: str, address: str) -> str:
    return f"login-wait:{scope}:{address}"


def wait_seconds(*, scope: str, address: str | None) -> int:
    """Seconds this address must still wait before a login of this kind is processed (0: go ahead)."""
    if not address:
        return 0
    try:
        until = cache.get(_wait_key(scope, address))
    except Exception:  # a cache outage must not stop logins; the per-number limits hold
        logger.warning("login throttle: cache unavailable, address check skipped")
        return 0
    return max(0, math.ceil(until - time.time())) if until else 0


def check(*, scope: str, address: str | None) -> None:
    """Raise :class:`RateLimited` (with the seconds to wait) while the address is made to wait."""
    wait = wait_seconds(scope=scope, address=address)
    if wait:
        raise RateLimited(message(wait), code="too_many_attempts", retry_after=wait)


def failed(*, scope: str, address: str | None) -> int:
    """Count one failed login from ``address``; returns the seconds it must now wait (0 if none)."""
    if not address:
        return 0
    failures, window = limit_for(scope=scope, address=address)
    try:
        # ``hit`` allows ``limit`` events: the failure that reaches the limit starts the wait.
        if ratelimit.hit(scope=f"login-fail-{scope}", key=address, limit=failures - 1, window_seconds=window):
            return 0
        cache.set(_wait_key(scope, address), time.time() + window, timeout=window)
    except Exception:  # see wait_seconds
        logger.warning("login throttle: cache unavailable, failure not counted")
        return 0
    logger.info(
        "login throttle: an address reached %s failed %s logins; it waits %s s", failures, scope, window
    )
    return window


def message(wait: int) -> str:
    return f"尝试次数太多，请稍后再试（{wait} 秒）"
