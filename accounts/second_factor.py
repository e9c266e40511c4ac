"""Two factors for staff and mediators (二次验证): an authenticator app (TOTP, django-otp's ``otp_totp``) and
ten one-time recovery codes (``otp_static``).

Who needs it: anyone who can reach personal data or money beyond their own — staff (``is_staff``,
superusers, role 大厅工作人员) and mediators. Seekers and employers log in with a password or SMS code
as before. A session passes the second factor when django-otp's session key names a confirmed device of
the logged-in user (:func:`second_factor_passed`); :mod:`accounts.middleware` demands that on every page
and API call of such a user, and ends their session after ``STAFF_IDLE_TIMEOUT`` idle.

Wrong codes are throttled by django-otp (each device doubles its wait after every consecutive failure).
Verification runs in its own transaction and the error is raised only after it commits, so a refused
code's throttle count is never rolled back with the error.
"""

from __future__ import annotations

import re
import time
import unicodedata
from base64 import b32encode
from datetime import datetime

import segno
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import get_token_model

from core.errors import Conflict, DomainError, NotAllowed
from core.models import AuditLog
from core.services import audit_record

from .models import User

# Session keys: when this login happened and when its last request came (time.time() seconds).
LOGIN_AT_KEY = "staff_login_at"
LAST_ACTIVITY_KEY = "staff_last_activity"

TOTP_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"
_TOTP_RE = re.compile(r"^\d{6}$")
_RECOVERY_RE = re.compile(r"^[a-z2-7]{8}$")


# ------------------------------------------------------------------------------------------ selectors


def needs_second_factor(user) -> bool:
    """Staff, superusers and mediators; never seekers or employers."""
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_staff or user.is_superuser or user.role in (User.Role.STAFF, User.Role.MEDIATOR))
    )


def confirmed_totp(*, user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_second_factor(*, user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_passed(request) -> bool:
    """The logged-in user proved a second factor in this session: django-otp's session key names one of
    their confirmed devices (a device deleted by a reset no longer counts). Cached on the request."""
    cached = getattr(request, "_second_factor_passed", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    passed = False
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY) if user and user.is_authenticated else None
    if persistent_id:
        device = Device.from_persistent_id(persistent_id)
        passed = bool(device is not None and device.user_id == user.pk and device.confirmed)
    request._second_factor_passed = passed
    return passed


def secret_in_groups(device: TOTPDevice) -> str:
    """The key as the authenticator apps take it when typed: base32, in groups of 4 (``ABCD EFGH …``)."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` URI as an inline SVG QR code (no script, no external image)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, title="身份验证器二维码")


def _normalized(code: str) -> str:
    # Full-width digits and letters, spaces and hyphens as people type them from a phone or a printout.
    text = unicodedata.normalize("NFKC", code or "")
    return re.sub(r"[\s\-]", "", text).lower()


# ------------------------------------------------------------------------------------------- services


def _throttle_error(device: Device) -> DomainError | None:
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (info or {}).get("locked_until")
    if locked_until is None:
        return DomainError("暂时不能验证，请稍后再试", field="code", code="otp_throttled")
    seconds = max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))
    wait = f"{seconds}秒" if seconds < 120 else f"{(seconds + 59) // 60}分钟"
    return DomainError(f"错误次数太多，请{wait}后再试", field="code", code="otp_throttled")


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The device being enrolled: the user's unconfirmed one, or a new one with a fresh random key."""
    if has_second_factor(user=user):
        raise Conflict("已经绑定了身份验证器", code="already_enrolled")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def _new_recovery_codes(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.STAFF_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def totp_enrolment_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the device being enrolled with a code from the app; return it and the new recovery codes
    (shown once: only the codes' rows remain, each deleted when used)."""
    code = _normalized(code)
    if not _TOTP_RE.match(code):
        raise DomainError("请输入身份验证器上显示的6位数字", field="code", code="invalid_otp")
    error: DomainError | None = None
    codes: list[str] = []
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        )
        if device is None:
            if has_second_factor(user=user):
                raise Conflict("已经绑定了身份验证器", field="code", code="already_enrolled")
            raise Conflict("请先扫描二维码", field="code", code="no_enrolment")
        error = _throttle_error(device)
        if error is None and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _new_recovery_codes(user=user)
        elif error is None:
            error = DomainError(
                "验证码不正确：请输入身份验证器上当前显示的6位数字（每30秒更换）",
                field="code",
                code="invalid_otp",
            )
    if error is not None:
        raise error
    return device, codes


def second_factor_verify(*, user: User, code: str) -> Device:
    """Check a code from the authenticator (6 digits) or a recovery code (8 letters/digits, used up by
    this). Returns the device that accepted it; raises a field error on ``code`` otherwise."""
    code = _normalized(code)
    if not code:
        raise DomainError("请输入验证码", field="code", code="required")
    if _TOTP_RE.match(code):
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
        wrong = "验证码不正确：请输入身份验证器上当前显示的6位数字（每30秒更换）"
    elif _RECOVERY_RE.match(code):
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
        wrong = "恢复码不正确或已经用过"
    else:
        raise DomainError("请输入身份验证器上的6位数字，或一个8位恢复码", field="code", code="invalid_otp")
    error: DomainError | None = None
    with transaction.atomic():
        device = devices.select_for_update().order_by("pk").first()
        if device is None:
            raise Conflict(
                "还没有绑定身份验证器" if _TOTP_RE.match(code) else "没有可用的恢复码",
                field="code",
                code="no_device",
            )
        error = _throttle_error(device)
        if error is None and not device.verify_token(code):
            error = DomainError(wrong, field="code", code="invalid_otp")
    if error is not None:
        raise error
    return device


def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), for a user who proves the authenticator again.
    (Not one transaction: a wrong code's throttle count must commit although this raises.)"""
    code = _normalized(code)
    if not _TOTP_RE.match(code):
        raise DomainError("请输入身份验证器上显示的6位数字", field="code", code="invalid_otp")
    second_factor_verify(user=user, code=code)
    with transaction.atomic():
        return _new_recovery_codes(user=user)


@transaction.atomic
def second_factor_reset(*, actor: User, user: User, reason: str, ip_address: str | None = None) -> int:
    """A superuser removes a staff member's authenticator and recovery codes (a lost or stolen phone):
    their sessions and API tokens end, and they enrol again at their next login. Audited."""
    if not (actor.is_active and actor.is_superuser):
        raise NotAllowed("只有超级管理员可以重置二次验证")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写原因", field="reason", code="required")
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        count, _ = model.objects.filter(user=user).delete()
        removed += count
    tokens, _ = get_token_model().objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).update(second_factor_reset_at=timezone.now())
    audit_record(
        actor=actor,
        action=AuditLog.Action.RESET_SECOND_FACTOR,
        target=user,
        reason=reason,
        data={"rows_removed": removed, "api_tokens_ended": tokens},
        ip_address=ip_address,
    )
    return removed


# ---------------------------------------------------------------------------------------- sessions


def session_started(request) -> None:
    """Stamp a new staff session's login time (a reset after it ends it) and its first activity."""
    now = time.time()
    request.session[LOGIN_AT_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now


def session_ended_by_reset(request, user: User) -> bool:
    reset_at: datetime | None = user.second_factor_reset_at
    if reset_at is None:
        return False
    return float(request.session.get(LOGIN_AT_KEY, 0)) < reset_at.timestamp()


def session_idle_too_long(request) -> bool:
    last = request.session.get(LAST_ACTIVITY_KEY)
    if last is None:
        return False
    return time.time() - float(last) > settings.STAFF_IDLE_TIMEOUT.total_seconds()


def session_touch(request) -> None:
    request.session[LAST_ACTIVITY_KEY] = time.time()
    # A backstop should the check above ever be skipped: the stored session and its cookie expire too —
    # later than the idle time, so that the middleware, not a silent expiry, ends the session with a
    # message saying why.
    request.session.set_expiry(int(2 * settings.STAFF_IDLE_TIMEOUT.total_seconds()))


@receiver(user_logged_in)
def _staff_logged_in(sender, request, user, **kwargs) -> None:
    # Only a session login (django.contrib.auth.login sets request.user first); the token login sends the
    # signal too, on a request whose session must stay empty.
    if request is not None and getattr(request, "user", None) is user and needs_second_factor(user):
        session_started(request)
