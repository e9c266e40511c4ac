"""Hall writes: kiosk sign-in and sessions, the kiosk's 抢单/报名, the daily supply/demand snapshot, and
the open-data export's tokens and pull log."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import PhoneCode, RealName, ServicePoint, User
from accounts.services import phone_code_check, phone_code_send
from accounts.validators import normalize_id_number, normalize_phone
from core.crypto import blind_index
from core.errors import DomainError, NotAllowed
from jobs.grabbing import claim as claim_create
from jobs.models import Claim, Post

from .models import ExportPull, ExportToken, KioskSession, SupplyDemandSnapshot
from .selectors import Scope, supply_demand_cells


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --------------------------------------------------------------------------------------------- kiosk


def _kiosk_user(*, phone: str = "", id_number: str = "") -> tuple[User, str]:
    """The seeker a kiosk sign-in is for, by phone or by ID number (through the real-name blind index,
    never by decrypting). Unknown people get one message for both cases, so the kiosk tells nobody whose
    number or ID is registered beyond what the register page already tells."""
    if id_number:
        try:
            number, _birth = normalize_id_number(id_number)
        except ValidationError as exc:
            raise DomainError(exc.messages[0], field="id_number") from exc
        record = (
            RealName.objects.filter(id_index=blind_index(number, purpose="id_number"))
            .exclude(status=RealName.Status.REJECTED)
            .select_related("user")
            .first()
        )
        if record is None or not record.user.is_active:
            raise DomainError("没有找到该身份证号的实名账户，请用手机号登录或到窗口办理", field="id_number")
        return record.user, "id_number"
    try:
        phone = normalize_phone(phone)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="phone") from exc
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise DomainError("该手机号还没有注册，请到窗口办理登记", field="phone", code="not_registered")
    return user, "phone"


@transaction.atomic
def kiosk_code_send(
    *, point: ServicePoint, phone: str = "", id_number: str = "", ip_address: str | None = None
) -> tuple[KioskSession, str]:
    """Step 1 of a kiosk sign-in: send a login code to the seeker's phone and open a pending session.
    Returns the session and its token (for the kiosk's cookie). Any earlier session of the kiosk ends."""
    if not point.is_active:
        raise NotAllowed("该网点已停用")
    user, via = _kiosk_user(phone=phone, id_number=id_number)
    if user.role != User.Role.SEEKER:
        raise DomainError("求职机只供求职者使用", field="id_number" if id_number else "phone")
    phone_code_send(phone=user.phone, purpose=PhoneCode.Purpose.LOGIN, ip_address=ip_address)
    token = secrets.token_urlsafe(32)
    session = KioskSession.objects.create(
        token_hash=_hash(token), service_point=point, user=user, via=via, state=KioskSession.State.CODE_SENT
    )
    return session, token


def kiosk_session_for(*, token: str, point: ServicePoint, states: tuple[str, ...]) -> KioskSession | None:
    """The live session behind a kiosk cookie, touched; an idle one is ended here (→ None)."""
    if not token:
        return None
    session = (
        KioskSession.objects.select_related("user")
        .filter(token_hash=_hash(token), service_point=point, state__in=states)
        .first()
    )
    if session is None:
        return None
    now = timezone.now()
    if session.last_seen_at < now - dt.timedelta(seconds=settings.HALL_KIOSK_TIMEOUT_SECONDS):
        kiosk_session_end(session=session, reason="timeout")
        return None
    KioskSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return session


def kiosk_sign_in(*, session: KioskSession, code: str) -> KioskSession:
    """Step 2: the code from the SMS turns the pending session into a signed-in one (not a site login)."""
    if session.state != KioskSession.State.CODE_SENT:
        raise DomainError("请重新获取验证码", field="code")
    # Outside any transaction: a wrong code's attempt count must stick (accounts.services.phone_code_check).
    phone_code_check(phone=session.user.phone, purpose=PhoneCode.Purpose.LOGIN, code=code)
    changed = KioskSession.objects.filter(pk=session.pk, state=KioskSession.State.CODE_SENT).update(
        state=KioskSession.State.ACTIVE, last_seen_at=timezone.now()
    )
    if changed != 1:
        raise DomainError("请重新获取验证码", field="code")
    session.state = KioskSession.State.ACTIVE
    return session


def kiosk_session_end(*, session: KioskSession, reason: str) -> None:
    KioskSession.objects.filter(pk=session.pk).exclude(state=KioskSession.State.ENDED).update(
        state=KioskSession.State.ENDED, ended_at=timezone.now(), end_reason=reason[:20]
    )
    session.state = KioskSession.State.ENDED


def kiosk_sessions_expire(*, now: dt.datetime | None = None) -> int:
    """End every session idle past the timeout (a kiosk switched off mid-flow leaves one behind)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.HALL_KIOSK_TIMEOUT_SECONDS)
    return (
        KioskSession.objects.exclude(state=KioskSession.State.ENDED)
        .filter(last_seen_at__lt=cutoff)
        .update(state=KioskSession.State.ENDED, ended_at=now, end_reason="timeout")
    )


def kiosk_claim(*, session: KioskSession, post: Post) -> Claim:
    """抢单/报名 from the kiosk: the jobs service does the work (and queues the confirmation SMS)."""
    if session.state != KioskSession.State.ACTIVE:
        raise NotAllowed("请先登录")
    return claim_create(post=post, worker=session.user, note=f"求职机·{session.service_point.name}"[:200])


# ------------------------------------------------------------------------------------------ snapshots


@transaction.atomic
def snapshot_take(*, day: dt.date | None = None) -> int:
    """Write (or rewrite) the day's supply/demand rows, market-wide. Idempotent."""
    day = day or timezone.localdate()
    cells = supply_demand_cells(scope=Scope(point_ids=None, area_ids=None, point=None, label=""), day=day)
    SupplyDemandSnapshot.objects.filter(day=day).delete()
    rows = [
        SupplyDemandSnapshot(
            day=day,
            trade_id=trade_id,
            area_id=area_id,
            seekers=v["seekers"],
            openings=v["openings"],
            posts_open=v["posts"],
        )
        for (trade_id, area_id), v in cells.items()
    ]
    SupplyDemandSnapshot.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# ------------------------------------------------------------------------------------------ open data


def _clean_scopes(scopes: list[str]) -> list[str]:
    scopes = sorted(set(scopes or []))
    if not scopes:
        raise DomainError("请至少选择一个授权范围", field="scopes")
    bad = [s for s in scopes if s not in ExportToken.Scope.values]
    if bad:
        raise DomainError(f"未知的授权范围：{'、'.join(bad)}", field="scopes")
    return scopes


@transaction.atomic
def export_token_create(
    *, name: str, scopes: list[str], expires_at: dt.datetime, actor: User
) -> tuple[ExportToken, str]:
    """A new token; the plain token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写名称", field="name")
    if expires_at <= timezone.now():
        raise DomainError("有效期必须晚于现在", field="expires_at")
    token = "gmx_" + secrets.token_urlsafe(32)
    record = ExportToken.objects.create(
        name=name[:80],
        prefix=token[:10],
        token_hash=_hash(token),
        scopes=_clean_scopes(scopes),
        expires_at=expires_at,
        created_by=actor,
    )
    return record, token


@transaction.atomic
def export_token_revoke(*, token: ExportToken, actor: User) -> ExportToken:
    ExportToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def export_token_check(*, raw: str, scope: str) -> ExportToken:
    """The live token for a request, allowed ``scope``; else NotAllowed (401/403 by the view)."""
    record = ExportToken.objects.filter(token_hash=_hash(raw or "")).first() if raw else None
    if record is None or not record.is_live:
        raise NotAllowed("令牌无效、已过期或已吊销", code="bad_token")
    if scope not in record.scopes:
        raise NotAllowed("该令牌无权访问此数据", code="scope")
    ExportToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    return record


def export_pull_log(
    *,
    token: ExportToken | None,
    endpoint: str,
    params: dict[str, Any],
    status_code: int,
    row_count: int,
    client_address: str | None,
) -> ExportPull:
    return ExportPull.objects.create(
        token=token,
        endpoint=endpoint[:40],
        params={k: str(v)[:100] for k, v in list(params.items())[:20]},
        status_code=status_code,
        row_count=row_count,
        client_address=client_address,
    )
