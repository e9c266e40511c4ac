"""Account writes: codes, registration, real-name, employers, certificates, profiles.

Every function is keyword-only, atomic, checks the current status before changing it, records a
:class:`~accounts.models.ReviewEvent` for each decision, and queues its SMS in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from knox.models import AuthToken

from core import ratelimit
from core.crypto import blind_index, decrypt_bytes, encrypt_bytes
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed, RateLimited
from core.masking import mask_id_number
from core.scoping import object_visible_to
from core.services import audit_record
from core.uploads import CheckedUpload, upload_check
from notifications.services import message_queue

from . import throttle
from .identity import get_verifier
from .models import (
    Certificate,
    CertificateType,
    Employer,
    EmployerMember,
    IdCardPhoto,
    PhoneCode,
    PhoneCodeThrottle,
    RealName,
    ReviewEvent,
    ServicePoint,
    User,
    WorkerProfile,
)
from .selectors import default_service_point
from .signals import employer_suspended
from .validators import (
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
    validate_name,
)

# ---------------------------------------------------------------------------------------------- codes


def _code_hash(phone: str, purpose: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone}:{purpose}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _check_code_limits(phone: str, now: dt.datetime) -> None:
    for window, limit in settings.PHONE_CODE_LIMITS:
        sent = PhoneCode.objects.filter(phone=phone, created_at__gt=now - window).count()
        if sent >= limit:
            if window <= dt.timedelta(minutes=1):
                message = "验证码发送太频繁，请1分钟后再试"
            elif window <= dt.timedelta(hours=1):
                message = "验证码发送次数过多，请1小时后再试"
            else:
                message = "今天发送验证码的次数已用完，请明天再试或到服务网点求助"
            raise RateLimited(message, field="phone")


@transaction.atomic
def phone_code_send(
    *, phone: str, purpose: str, template_params: dict[str, Any] | None = None, ip_address: str | None = None
) -> PhoneCode:
    """Issue a 6-digit code for ``purpose``, within the per-number limits (1/min, 5/h, 10/day)."""
    phone = _clean_phone(phone)
    if purpose not in PhoneCode.Purpose.values:
        raise DomainError("未知的验证码用途", field="purpose")
    if purpose == PhoneCode.Purpose.REGISTER and User.objects.filter(phone=phone, is_active=True).exists():
        raise Conflict("该手机号已注册，请直接登录", field="phone")
    if (
        purpose in (PhoneCode.Purpose.LOGIN, PhoneCode.Purpose.RESET)
        and not User.objects.filter(phone=phone, is_active=True).exists()
    ):
        raise DomainError("该手机号还没有注册", field="phone", code="not_registered")

    # Per address too, so nobody can make the platform text thousands of strangers. Generous, and more so
    # for an address listed as a hall's kiosks (a whole hall asks from it).
    window, limit = settings.PHONE_CODE_IP_LIMIT
    seconds = int(window.total_seconds())
    if throttle.is_kiosk(ip_address):
        limit *= settings.LOGIN_KIOSK_FACTOR
    if ip_address and not ratelimit.hit(
        scope="phone-code-ip", key=ip_address, limit=limit, window_seconds=seconds
    ):
        wait = seconds - int(time.time()) % seconds  # the counter's window ends then
        raise RateLimited(
            f"此网络请求验证码过于频繁，{throttle.message(wait)}", field="phone", retry_after=wait
        )
    # Serialise code requests per number so parallel requests cannot both pass the limit check.
    PhoneCodeThrottle.objects.get_or_create(phone=phone)
    PhoneCodeThrottle.objects.select_for_update().get(phone=phone)
    now = timezone.now()
    _check_code_limits(phone, now)

    code = f"{secrets.randbelow(10**6):06d}"
    record = PhoneCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_code_hash(phone, purpose, code),
        created_at=now,
        expires_at=now + settings.PHONE_CODE_TTL,
    )
    minutes = int(settings.PHONE_CODE_TTL.total_seconds() // 60)
    if purpose == PhoneCode.Purpose.ASSISTED:
        template, params = (
            "assisted_registration",
            {"code": code, "minutes": minutes, **(template_params or {})},
        )
    else:
        template = "phone_code"
        params = {"code": code, "minutes": minutes, "purpose": PhoneCode.Purpose(purpose).label}
    # The code reaches the gateway only: the outbox row keeps it redacted, encrypted until it expires.
    message_queue(
        event_key=f"phone_code:{record.pk}",
        template=template,
        params=params,
        phone=phone,
        expires_at=record.expires_at,
    )
    return record


def phone_code_check(*, phone: str, purpose: str, code: str) -> None:
    """Consume the newest live code for (phone, purpose). Wrong tries count; five spoil the code.

    Call it outside any enclosing ``transaction.atomic``: the caller's rollback on a wrong code would undo
    the attempt count and leave the code open to guessing."""
    phone = _clean_phone(phone)
    code = (code or "").strip()
    if not code.isdigit() or len(code) != 6:
        raise DomainError("请输入6位数字验证码", field="code", code="invalid_code")
    now = timezone.now()
    with transaction.atomic():
        record = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if record is None:
            raise DomainError("验证码已过期或未发送，请重新获取", field="code", code="code_expired")
        if record.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
            raise DomainError("验证码错误次数过多，请重新获取", field="code", code="code_spoiled")
        if not hmac.compare_digest(record.code_hash, _code_hash(phone, purpose, code)):
            PhoneCode.objects.filter(pk=record.pk).update(attempts=record.attempts + 1)
            wrong = True
        else:
            # Compare-and-swap: exactly one caller can use a code.
            wrong = False
            used = PhoneCode.objects.filter(pk=record.pk, used_at__isnull=True).update(used_at=now)
            if used != 1:
                raise DomainError("验证码已使用，请重新获取", field="code", code="code_used")
    if wrong:
        raise DomainError("验证码不正确", field="code", code="wrong_code")


def user_login_by_code(*, phone: str, code: str) -> User:
    """Sign in with a live login code. Deliberately outside django-axes: a number locked by failed
    passwords (anyone can type wrong passwords for any number) still signs in by code, which has its own
    limits (5 wrong tries spoil a code; 1/min, 5/h, 10/day per number). Owning the phone is proven, so a
    lock-out from failed passwords is lifted. Not atomic (see :func:`phone_code_check`)."""
    phone = _clean_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:  # no code can have been sent: the same answer as for a number without a live code
        raise DomainError("验证码已过期或未发送，请重新获取", field="code", code="code_expired")
    phone_code_check(phone=phone, purpose=PhoneCode.Purpose.LOGIN, code=code)
    axes_reset(username=phone)
    return user


def _clean_phone(phone: str) -> str:
    try:
        return normalize_phone(phone)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="phone", code="invalid_phone") from exc


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password", code="weak_password") from exc


# ------------------------------------------------------------------------------------- registration


def user_register(
    *, phone: str, code: str, name: str = "", password: str | None = None, role: str = User.Role.SEEKER
) -> User:
    """Self-registration by SMS code; a password is optional (many seekers log in by code only).

    Not atomic as a whole: the code check commits on its own (see :func:`phone_code_check`)."""
    phone = _clean_phone(phone)
    if role not in (User.Role.SEEKER, User.Role.EMPLOYER):
        raise DomainError("只能注册为求职者或用工方", field="role")
    if password:
        _check_password(password, User(phone=phone, name=name))
    if User.objects.filter(phone=phone).exists():
        raise Conflict("该手机号已注册，请直接登录", field="phone")
    phone_code_check(phone=phone, purpose=PhoneCode.Purpose.REGISTER, code=code)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                phone,
                password or None,
                name=name.strip()[:40],
                role=role,
                phone_confirmed_at=timezone.now(),
                # Online sign-ups belong to the district market, which runs the online channel.
                service_point=default_service_point(),
            )
            if role == User.Role.SEEKER:
                WorkerProfile.objects.create(user=user)
    except IntegrityError as exc:
        raise Conflict("该手机号已注册，请直接登录", field="phone") from exc
    return user


@transaction.atomic
def user_register_assisted(
    *, staff: User, phone: str, name: str, id_number: str = "", wanted_trade_ids: list[int] | None = None
) -> User:
    """代注册: station staff register a villager. The account stays inactive until the villager reads back
    the SMS code sent to their own phone (:func:`user_confirm_assisted`)."""
    if not staff.has_perm("accounts.register_on_behalf") or staff.service_point_id is None:
        raise NotAllowed("只有网点工作人员可以代注册")
    phone = _clean_phone(phone)
    existing = User.objects.filter(phone=phone).first()
    if existing is not None and (existing.is_active or existing.registered_by_id is None):
        raise Conflict("该手机号已注册", field="phone")
    try:
        name = validate_name(name)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="name") from exc
    if existing is None:
        user = User.objects.create_user(
            phone,
            None,
            name=name,
            role=User.Role.SEEKER,
            is_active=False,
            service_point=staff.service_point,
            registered_by=staff,
        )
        profile = WorkerProfile.objects.create(user=user)
    else:  # a previous attempt that the villager never confirmed: take it over
        user = existing
        user.name, user.service_point, user.registered_by = name, staff.service_point, staff
        user.save(update_fields=["name", "service_point", "registered_by"])
        profile, _ = WorkerProfile.objects.get_or_create(user=user)
    if wanted_trade_ids:
        profile.wanted_trades.set(wanted_trade_ids)
    if id_number:
        realname_submit(user=user, name=name, id_number=id_number)
    phone_code_send(
        phone=phone, purpose=PhoneCode.Purpose.ASSISTED, template_params={"point": staff.service_point.name}
    )
    audit_record(
        actor=staff, action="assisted_registration", target=user, data={"point": staff.service_point_id}
    )
    return user


def user_confirm_assisted(*, staff: User, phone: str, code: str) -> User:
    """The villager reads back the code; the code check commits on its own (see :func:`phone_code_check`)."""
    phone = _clean_phone(phone)

    def pending_user(lock: bool) -> User:
        users = User.objects.select_for_update() if lock else User.objects
        user = users.filter(phone=phone, registered_by__isnull=False).first()
        if user is None:
            raise DomainError("没有找到待确认的代注册账户", field="phone", code="not_found")
        if user.is_active:
            raise InvalidTransition("该账户已确认", field="phone")
        if not staff.is_superuser and user.service_point_id != staff.service_point_id:
            raise NotAllowed("只能确认本网点代注册的账户")
        return user

    pending_user(lock=False)
    phone_code_check(phone=phone, purpose=PhoneCode.Purpose.ASSISTED, code=code)
    with transaction.atomic():
        user = pending_user(lock=True)
        user.is_active = True
        user.phone_confirmed_at = timezone.now()
        user.save(update_fields=["is_active", "phone_confirmed_at"])
        ReviewEvent.objects.create(
            subject=ReviewEvent.Subject.ACCOUNT,
            object_id=user.pk,
            actor=staff,
            from_status="unconfirmed",
            to_status="active",
            data={"assisted": True},
        )
    return user


def password_reset(*, phone: str, code: str, new_password: str) -> User:
    """Not atomic as a whole: the code check commits on its own (see :func:`phone_code_check`)."""
    phone = _clean_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise DomainError("该手机号还没有注册", field="phone", code="not_registered")
    _check_password(new_password, user)
    phone_code_check(phone=phone, purpose=PhoneCode.Purpose.RESET, code=code)
    with transaction.atomic():
        user.set_password(new_password)
        # The new hash ends every browser session and (User.save) every API token: whoever knew the old
        # password is out. A page that reset it for its own signed-in user keeps that session itself.
        user.save(update_fields=["password"])
    # Owning the phone is proven: lift a lock-out from failed logins on this number.
    axes_reset(username=phone)
    return user


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str, keep_token=None) -> User:
    """The signed-in user changes their password. Every other web session and API token ends; the caller
    keeps its own (``keep_token`` for the API; a page calls ``update_session_auth_hash``)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.has_usable_password():
        # A code-only account sets its first password by proving the phone (找回密码), not by a session.
        raise DomainError(
            "您还没有设过密码，请用“找回密码”通过短信验证码设置", field="old_password", code="no_password"
        )
    if not user.check_password(old_password or ""):
        raise DomainError("原密码不正确", field="old_password", code="wrong_password")
    _check_password(new_password, user)
    user.set_password(new_password, keep_token=keep_token)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_sessions_end(*, user: User) -> None:
    """退出所有设备: every web session (the epoch is part of each session's hash) and every API token of
    the user ends, the caller's own included."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    AuthToken.objects.filter(user=user).delete()


@transaction.atomic
def user_elder_mode_set(*, user: User, on: bool) -> User:
    """Turn 长辈模式 on or off for the account (the page's cookie is the view's business)."""
    if user.elder_mode != on:
        user.elder_mode = on
        user.save(update_fields=["elder_mode"])
    return user


def user_update(*, user: User, name: str) -> User:
    """The user changes what the platform calls them (称呼); the real-name record keeps the legal name."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 40:
        raise DomainError("请填写称呼（1–40个字）", field="name")
    if user.name != name:
        user.name = name
        user.save(update_fields=["name"])
    return user


# ------------------------------------------------------------------------------------------ real-name


def _event(subject: str, obj, *, actor, old: str, new: str, reason: str = "", **data) -> None:
    ReviewEvent.objects.create(
        subject=subject,
        object_id=obj.pk,
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=old,
        to_status=new,
        reason=reason,
        data=data,
    )


def _result_text(status: str) -> str:
    return {"verified": "已通过", "approved": "已通过", "rejected": "未通过", "suspended": "已被暂停"}.get(
        status, status
    )


# ---------------------------------------------------------------------------------- ID card photos

ID_PHOTO_KEEP = dt.timedelta(days=30)


@transaction.atomic
def realname_photos_store(*, user: User, front, back) -> list[IdCardPhoto]:
    """Keep both sides of the ID card beside the user's real-name while staff review it, each checked by
    its bytes and re-encoded (``core.uploads``); a resubmission replaces the earlier photos. Only a record
    awaiting a clerk (pending) takes photos: a verified or rejected one needs none."""
    errors: dict[str, list] = {}
    checked: dict[str, CheckedUpload] = {}
    for field, upload in (("id_front", front), ("id_back", back)):
        if upload is None:
            errors[field] = [ValidationError("请同时上传身份证的两面", code="required")]
            continue
        try:
            checked[field] = upload_check(upload)
        except ValidationError as exc:
            errors[field] = exc.error_list
    if errors:
        raise ValidationError(errors)
    record = RealName.objects.select_for_update().filter(user=user).first()
    if record is None or record.status != RealName.Status.PENDING:
        raise InvalidTransition("只有审核中的实名认证可以上传身份证照片", field="id_front")
    front, back = checked["id_front"], checked["id_back"]
    IdCardPhoto.objects.filter(realname=record).delete()
    return IdCardPhoto.objects.bulk_create(
        IdCardPhoto(
            realname=record,
            side=side,
            content=encrypt_bytes(upload.content),
            content_type=upload.content_type,
        )
        for side, upload in ((IdCardPhoto.Side.FRONT, front), (IdCardPhoto.Side.BACK, back))
    )


def realname_photo_view(*, actor: User, photo: IdCardPhoto, ip_address: str | None = None) -> bytes:
    """The photo's bytes for a reviewing clerk who may see this person (the caller has checked the scope
    and the permission); every look goes to the audit log."""
    audit_record(
        actor=actor,
        action="view_id_photo",
        target=photo.realname,
        data={"side": photo.side},
        ip_address=ip_address,
    )
    return decrypt_bytes(photo.content)


def realname_photos_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the photos of every real-name decided at least 30 days ago; returns how many. A pending
    record keeps its photos whatever their age: the clerk has not looked yet."""
    cutoff = (now or timezone.now()) - ID_PHOTO_KEEP
    deleted, _ = IdCardPhoto.objects.filter(
        realname__decided_at__isnull=False, realname__decided_at__lte=cutoff
    ).delete()
    return deleted


@transaction.atomic
def realname_submit(*, user: User, name: str, id_number: str) -> RealName:
    """Submit (or resubmit after a rejection) name + ID number, then ask the configured verifier."""
    errors: dict[str, list[str]] = {}
    try:
        name = validate_name(name)
    except ValidationError as exc:
        errors["name"] = exc.error_list
    try:
        number, birth = normalize_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.error_list
    if errors:
        raise ValidationError(errors)

    record = RealName.objects.select_for_update().filter(user=user).first()
    if record is not None and record.status != RealName.Status.REJECTED:
        raise InvalidTransition(
            "您已实名" if record.status == RealName.Status.VERIFIED else "您的实名信息正在审核中",
            field="id_number",
        )
    index = blind_index(number, purpose="id_number")
    if (
        RealName.objects.filter(id_index=index)
        .exclude(status=RealName.Status.REJECTED)
        .exclude(user=user)
        .exists()
    ):
        raise Conflict(
            "该身份证号已绑定其他账户。一人只能实名一个账户，如有疑问请到服务网点办理", field="id_number"
        )

    old = record.status if record else ""
    record = record or RealName(user=user)
    record.name, record.id_number, record.id_index = name, number, index
    record.id_masked, record.birth_year = mask_id_number(number), birth.year
    record.status, record.reject_reason = RealName.Status.PENDING, ""
    record.submitted_at, record.decided_at, record.decided_by = timezone.now(), None, None
    verifier = get_verifier()
    record.method = verifier.method
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:  # a concurrent submission of the same ID won the race
        raise Conflict("该身份证号已绑定其他账户", field="id_number") from exc
    _event(ReviewEvent.Subject.REALNAME, record, actor=user, old=old, new=record.status)

    verdict = verifier.verify(name=name, id_number=number)
    if verdict.status == "verified":
        _realname_decide(record, actor=None, new=RealName.Status.VERIFIED, reason="")
    elif verdict.status == "rejected":
        _realname_decide(record, actor=None, new=RealName.Status.REJECTED, reason=verdict.reason)
    elif verdict.reason:
        _event(
            ReviewEvent.Subject.REALNAME,
            record,
            actor=None,
            old=record.status,
            new=record.status,
            reason=verdict.reason,
        )
    if user.name != name:
        user.name = name
        user.save(update_fields=["name"])
    return record


def _realname_decide(record: RealName, *, actor, new: str, reason: str) -> RealName:
    changed = RealName.objects.filter(pk=record.pk, status=RealName.Status.PENDING).update(
        status=new, reject_reason=reason, decided_at=timezone.now(), decided_by=actor if actor else None
    )
    if changed != 1:
        raise InvalidTransition("只能审核待审核的实名信息")
    old = record.status
    record.refresh_from_db()
    _event(ReviewEvent.Subject.REALNAME, record, actor=actor, old=old, new=new, reason=reason)
    message_queue(
        event_key=f"realname:{record.pk}:{record.decided_at.isoformat()}",
        template="realname_decided",
        params={"result": _result_text(new), "reason": f"原因：{reason}。" if reason else ""},
        recipient=record.user,
    )
    return record


def _reviewer(actor: User, perm: str, obj=None) -> None:
    if not (actor.is_staff and actor.has_perm(perm)):
        raise NotAllowed("没有审核权限")
    # The console and the API already show only the staff member's points; the decision checks again.
    if obj is not None and not object_visible_to(actor, obj):
        raise NotAllowed("该记录不属于您的网点")


@transaction.atomic
def realname_approve(*, realname: RealName, actor: User) -> RealName:
    _reviewer(actor, "accounts.change_realname", realname)
    return _realname_decide(realname, actor=actor, new=RealName.Status.VERIFIED, reason="")


@transaction.atomic
def realname_reject(*, realname: RealName, actor: User, reason: str) -> RealName:
    _reviewer(actor, "accounts.change_realname", realname)
    reason = _require_reason(reason)
    return _realname_decide(realname, actor=actor, new=RealName.Status.REJECTED, reason=reason)


@transaction.atomic
def realname_unmask(
    *, realname: RealName, actor: User, ip_address: str | None = None, reason: str = ""
) -> str:
    """Return the full ID number to a permitted staff member, writing the view to the audit log."""
    if not (actor.is_active and actor.is_staff and actor.has_perm("accounts.view_full_id_number")):
        raise NotAllowed("没有查看完整证件号的权限")
    if not object_visible_to(actor, realname):
        raise NotAllowed("该记录不属于您的网点")
    audit_record(actor=actor, action="unmask_id", target=realname, reason=reason, ip_address=ip_address)
    return realname.id_number


@transaction.atomic
def user_phone_unmask(*, user: User, actor: User, ip_address: str | None = None, reason: str = "") -> str:
    """Return a user's full phone number to a permitted staff member who sees the user's point, writing the
    view to the audit log (as :func:`realname_unmask` does for ID numbers)."""
    if not (actor.is_active and actor.is_staff and actor.has_perm("accounts.view_full_phone")):
        raise NotAllowed("没有查看完整手机号的权限")
    if not object_visible_to(actor, user):
        raise NotAllowed("该用户不属于您的网点")
    audit_record(actor=actor, action="unmask_phone", target=user, reason=reason, ip_address=ip_address)
    return user.phone


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写原因，申请人会看到它", field="reason")
    return reason[:200]


# ------------------------------------------------------------------------------------------ employers


def _clean_employer_input(
    *,
    kind: str,
    name: str,
    uscc: str | None,
    legal_representative: str,
    licence_image,
    user: User,
    image_on_file: bool = False,
) -> tuple[str | None, ContentFile | None, dict[str, list[str]]]:
    """The USCC, the licence image to store (re-encoded, server-named; None to keep what is on file) and
    the field errors."""
    errors: dict[str, list[str]] = {}
    licence = None
    if kind not in Employer.Kind.values:
        errors["kind"] = ["请选择用工主体类型"]
    if not (name or "").strip() and kind != Employer.Kind.HOUSEHOLD:
        errors["name"] = ["请填写名称（与营业执照一致）"]
    code = None
    if kind in (Employer.Kind.COMPANY, Employer.Kind.INDIVIDUAL_BUSINESS):
        try:
            code = normalize_uscc(uscc or "")
        except ValidationError as exc:
            errors["uscc"] = exc.messages
        if not (legal_representative or "").strip():
            errors["legal_representative"] = ["请填写法定代表人或经营者姓名"]
        if licence_image is not None or not image_on_file:
            try:
                licence = upload_check(licence_image).as_file()
            except ValidationError as exc:
                errors["licence_image"] = exc.messages
    elif kind == Employer.Kind.HOUSEHOLD and not user.is_verified:
        errors["kind"] = ["居民个人雇工需先完成实名认证"]
    return code, licence, errors


@transaction.atomic
def employer_register(
    *,
    user: User,
    kind: str,
    name: str = "",
    uscc: str | None = None,
    legal_representative: str = "",
    licence_image=None,
    licence_expires_on: dt.date | None = None,
    contact_name: str = "",
    address: str = "",
    area=None,
    service_point: ServicePoint | None = None,
) -> Employer:
    code, licence, errors = _clean_employer_input(
        kind=kind,
        name=name,
        uscc=uscc,
        legal_representative=legal_representative,
        licence_image=licence_image,
        user=user,
    )
    if licence_expires_on and licence_expires_on < timezone.localdate():
        errors["licence_expires_on"] = ["营业执照已过期"]
    if code and Employer.objects.filter(uscc=code).exclude(status=Employer.Status.REJECTED).exists():
        errors["uscc"] = ["该统一社会信用代码已登记，请联系该单位负责人把您加为成员"]
    if errors:
        raise ValidationError(errors)
    if kind == Employer.Kind.HOUSEHOLD:
        name = f"{user.realname.name}（居民）"
        legal_representative = user.realname.name
    employer = Employer(
        kind=kind,
        name=name.strip(),
        uscc=code,
        legal_representative=legal_representative.strip(),
        licence_expires_on=licence_expires_on,
        contact_name=contact_name.strip() or user.name,
        address=address.strip(),
        area=area,
        service_point=service_point or user.service_point or default_service_point(),
        created_by=user,
    )
    if licence is not None and kind != Employer.Kind.HOUSEHOLD:
        employer.licence_image = licence
    try:
        with transaction.atomic():
            employer.save()
    except IntegrityError as exc:
        raise ValidationError({"uscc": ["该统一社会信用代码已登记"]}) from exc
    EmployerMember.objects.create(employer=employer, user=user, role=EmployerMember.Role.OWNER)
    _event(ReviewEvent.Subject.EMPLOYER, employer, actor=user, old="", new=employer.status)
    return employer


@transaction.atomic
def employer_resubmit(
    *,
    employer: Employer,
    actor: User,
    name: str,
    uscc: str | None,
    legal_representative: str,
    licence_image=None,
    licence_expires_on: dt.date | None = None,
) -> Employer:
    """A rejected applicant corrects the details and goes back into the queue."""
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    _require_owner(employer, actor)
    if employer.status != Employer.Status.REJECTED:
        raise InvalidTransition("只有未通过的申请可以修改后重新提交")
    code, licence, errors = _clean_employer_input(
        kind=employer.kind,
        name=name,
        uscc=uscc,
        legal_representative=legal_representative,
        licence_image=licence_image,
        user=actor,
        image_on_file=bool(employer.licence_image),
    )
    if (
        code
        and Employer.objects.filter(uscc=code)
        .exclude(pk=employer.pk)
        .exclude(status=Employer.Status.REJECTED)
        .exists()
    ):
        errors["uscc"] = ["该统一社会信用代码已登记"]
    if errors:
        raise ValidationError(errors)
    employer.name, employer.uscc, employer.legal_representative = (
        name.strip(),
        code,
        legal_representative.strip(),
    )
    employer.licence_expires_on = licence_expires_on
    if licence is not None:
        employer.licence_image = licence
    employer.status, employer.reject_reason = Employer.Status.PENDING, ""
    employer.save()
    _event(
        ReviewEvent.Subject.EMPLOYER, employer, actor=actor, old=Employer.Status.REJECTED, new=employer.status
    )
    return employer


def _employer_decide(
    *, employer: Employer, actor: User, allowed_from: set[str], new: str, reason: str = ""
) -> Employer:
    _reviewer(actor, "accounts.change_employer", employer)
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    old = employer.status
    if old not in allowed_from:
        raise InvalidTransition(
            f"用工主体当前为“{employer.get_status_display()}”，不能改为“{Employer.Status(new).label}”"
        )
    if (
        new == Employer.Status.APPROVED
        and employer.kind == Employer.Kind.HOUSEHOLD
        and not employer.created_by.is_verified
    ):
        raise DomainError("居民个人雇工需申请人先完成实名认证")
    employer.status, employer.reject_reason = new, reason
    employer.decided_at, employer.decided_by = timezone.now(), actor
    employer.save(update_fields=["status", "reject_reason", "decided_at", "decided_by"])
    _event(ReviewEvent.Subject.EMPLOYER, employer, actor=actor, old=old, new=new, reason=reason)
    owner = employer.memberships.filter(role=EmployerMember.Role.OWNER).select_related("user").first()
    if owner is not None:
        message_queue(
            event_key=f"employer:{employer.pk}:{new}:{employer.decided_at.isoformat()}",
            template="employer_decided",
            params={
                "employer": employer.name,
                "result": _result_text(new),
                "reason": f"原因：{reason}" if reason else "",
            },
            recipient=owner.user,
        )
    return employer


@transaction.atomic
def employer_approve(*, employer: Employer, actor: User) -> Employer:
    return _employer_decide(
        employer=employer, actor=actor, allowed_from={Employer.Status.PENDING}, new=Employer.Status.APPROVED
    )


@transaction.atomic
def employer_reject(*, employer: Employer, actor: User, reason: str) -> Employer:
    return _employer_decide(
        employer=employer,
        actor=actor,
        allowed_from={Employer.Status.PENDING},
        new=Employer.Status.REJECTED,
        reason=_require_reason(reason),
    )


@transaction.atomic
def employer_suspend(*, employer: Employer, actor: User, reason: str) -> Employer:
    employer = _employer_decide(
        employer=employer,
        actor=actor,
        allowed_from={Employer.Status.APPROVED},
        new=Employer.Status.SUSPENDED,
        reason=_require_reason(reason),
    )
    employer_suspended.send(sender=Employer, employer=employer, actor=actor)
    return employer


@transaction.atomic
def employer_reinstate(*, employer: Employer, actor: User) -> Employer:
    return _employer_decide(
        employer=employer, actor=actor, allowed_from={Employer.Status.SUSPENDED}, new=Employer.Status.APPROVED
    )


def _require_owner(employer: Employer, user: User) -> None:
    if not employer.memberships.filter(user=user, role=EmployerMember.Role.OWNER).exists():
        raise NotAllowed("只有负责人可以进行此操作")


@transaction.atomic
def employer_member_add(*, employer: Employer, actor: User, phone: str) -> EmployerMember:
    _require_owner(employer, actor)
    phone = _clean_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise DomainError("该手机号还没有注册，请对方先注册", field="phone", code="not_registered")
    member, created = EmployerMember.objects.get_or_create(employer=employer, user=user)
    if not created:
        raise Conflict("此人已是成员", field="phone")
    return member


@transaction.atomic
def employer_member_remove(*, employer: Employer, actor: User, member: EmployerMember) -> None:
    _require_owner(employer, actor)
    if member.employer_id != employer.pk:
        raise NotAllowed("不是本单位成员")
    if member.role == EmployerMember.Role.OWNER:
        raise DomainError("不能移除负责人")
    member.delete()


def employer_assert_can_publish(*, employer: Employer, user: User) -> None:
    """The one gate for publishing posts: called by the jobs services, not just hidden in the UI."""
    if not employer.memberships.filter(user=user).exists():
        raise NotAllowed("您不是该用工主体的成员")
    # The stored status decides, not whatever copy the caller holds.
    employer = Employer.objects.only("status", "licence_expires_on").get(pk=employer.pk)
    if employer.status != Employer.Status.APPROVED:
        raise NotAllowed(
            f"用工主体“{employer.get_status_display()}”，审核通过后才能发布岗位", code="employer_not_approved"
        )
    if employer.licence_expires_on and employer.licence_expires_on < timezone.localdate():
        raise NotAllowed("营业执照已过期，请更新后再发布", code="licence_expired")


# -------------------------------------------------------------------------------------- certificates


@transaction.atomic
def certificate_submit(
    *,
    user: User,
    cert_type: CertificateType,
    number: str,
    image,
    expires_on: dt.date,
    issued_on: dt.date | None = None,
) -> Certificate:
    errors: dict[str, list[str]] = {}
    number = (number or "").strip()
    if not 4 <= len(number) <= 40:
        errors["number"] = ["请填写证书编号"]
    if expires_on is None:
        errors["expires_on"] = ["请填写有效期"]
    elif expires_on < timezone.localdate():
        errors["expires_on"] = ["证书已过期，不能上传"]
    if issued_on and expires_on and issued_on > expires_on:
        errors["issued_on"] = ["发证日期不能晚于有效期"]
    try:
        stored_image = upload_check(image).as_file()
    except ValidationError as exc:
        errors["image"] = exc.messages
    if errors:
        raise ValidationError(errors)
    cert = Certificate.objects.create(
        user=user,
        cert_type=cert_type,
        number=number,
        number_masked=mask_id_number(number),
        image=stored_image,
        issued_on=issued_on,
        expires_on=expires_on,
    )
    _event(ReviewEvent.Subject.CERTIFICATE, cert, actor=user, old="", new=cert.status)
    return cert


def _certificate_decide(*, certificate: Certificate, actor: User, new: str, reason: str = "") -> Certificate:
    _reviewer(actor, "accounts.change_certificate", certificate)
    changed = Certificate.objects.filter(pk=certificate.pk, status=Certificate.Status.PENDING).update(
        status=new, reject_reason=reason, decided_at=timezone.now(), decided_by=actor
    )
    if changed != 1:
        raise InvalidTransition("只能审核待审核的证书")
    certificate.refresh_from_db()
    _event(
        ReviewEvent.Subject.CERTIFICATE,
        certificate,
        actor=actor,
        old=Certificate.Status.PENDING,
        new=new,
        reason=reason,
    )
    message_queue(
        event_key=f"certificate:{certificate.pk}:{new}",
        template="certificate_decided",
        params={
            "certificate": certificate.cert_type.name,
            "result": _result_text(new),
            "reason": f"原因：{reason}" if reason else "",
        },
        recipient=certificate.user,
    )
    return certificate


@transaction.atomic
def certificate_approve(*, certificate: Certificate, actor: User) -> Certificate:
    return _certificate_decide(certificate=certificate, actor=actor, new=Certificate.Status.APPROVED)


@transaction.atomic
def certificate_reject(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    return _certificate_decide(
        certificate=certificate, actor=actor, new=Certificate.Status.REJECTED, reason=_require_reason(reason)
    )


# ------------------------------------------------------------------------------------------ profiles

PROFILE_FIELDS = (
    "skills",
    "expected_pay_fen",
    "expected_pay_unit",
    "area",
    "lat",
    "lng",
    "availability",
    "available_from",
    "max_distance_km",
    "about",
)


@transaction.atomic
def worker_profile_update(*, user: User, wanted_trades=None, **fields: Any) -> WorkerProfile:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise DomainError(f"不能修改：{', '.join(sorted(unknown))}")
    profile, _ = WorkerProfile.objects.select_for_update().get_or_create(user=user)
    if "skills" in fields:
        skills = [str(s).strip()[:20] for s in (fields["skills"] or []) if str(s).strip()]
        fields["skills"] = list(dict.fromkeys(skills))[:20]
    if "availability" in fields:
        bad = set(fields["availability"] or []) - set(WorkerProfile.Availability.values)
        if bad:
            raise ValidationError({"availability": ["可工作时间选项不正确"]})
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean(exclude=["user"])
    profile.save()
    if wanted_trades is not None:
        profile.wanted_trades.set(wanted_trades)
    return profile


@transaction.atomic
def worker_help_flag_set(
    *, profile: WorkerProfile, actor: User, tier: int, reasons: list[str]
) -> WorkerProfile:
    """Staff-only: mark a hard-to-place worker (困难零工) for tiered help."""
    if not (actor.is_staff and actor.has_perm("accounts.change_workerprofile")):
        raise NotAllowed("只有工作人员可以设置帮扶等级")
    if not object_visible_to(actor, profile):
        raise NotAllowed("该求职者不属于您的网点")
    if tier not in WorkerProfile.HelpTier.values:
        raise DomainError("帮扶等级不正确", field="help_tier")
    bad = set(reasons) - set(WorkerProfile.HelpReason.values)
    if bad:
        raise DomainError("帮扶原因不正确", field="help_reasons")
    old = profile.help_tier
    profile.help_tier, profile.help_reasons = tier, sorted(set(reasons))
    profile.save(update_fields=["help_tier", "help_reasons"])
    _event(ReviewEvent.Subject.ACCOUNT, profile.user, actor=actor, old=str(old), new=str(tier), help=True)
    return profile
