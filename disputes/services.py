"""Dispute writes: filing (online, oral at the hall, reporting a fake post), the case's transitions,
sessions, notes, messages, evidence, and the mediation agreement with its settlement.

Every transition is one function: a compare-and-swap UPDATE on the case's status (``_move``) and an
append-only :class:`~disputes.models.CaseEvent`. A case on an order holds the order's escrow (the order is
DISPUTED) until the case ends: then :func:`jobs.services.order_dispute_end` takes the order out of DISPUTED
and, for an agreement, :func:`jobs.money.order_settle_by_agreement` moves the money. Messages go into
the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Employer, EmployerMember, PhoneCode, User
from accounts.selectors import default_service_point
from accounts.validators import normalize_phone
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from core.masking import mask_name
from core.scoping import object_visible_to
from core.services import audit_record
from jobs import money
from jobs import services as job_services
from jobs.models import Order, Post
from notifications.models import Message
from notifications.services import message_queue

from .models import Agreement, Case, CaseEvent, Evidence, PrivateNote, Session, Transfer
from .validators import evidence_check

MAX_CLAIM_FEN = 1_000_000_00  # 1,000,000 yuan: anything above is a typo
FILED_CATEGORIES = [c for c in Case.Category.values if c != Case.Category.FAKE_POST]
#: statuses in which the order's escrow is still held by the case
HOLDING = (Case.Status.FILED, Case.Status.ACCEPTED, Case.Status.MEDIATING)


# ------------------------------------------------------------------------------------------ helpers


def deadline_days() -> int:
    return int(getattr(settings, "DISPUTES_DEADLINE_DAYS", 15))


def warning_days() -> int:
    return int(getattr(settings, "DISPUTES_DEADLINE_WARNING_DAYS", 3))


def _local(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%m月%d日 %H:%M}"


def _event(case: Case, *, actor: User | None, old: str, new: str, kind: str = "status", public: bool = True,
           **data: Any) -> CaseEvent:  # fmt: skip
    return CaseEvent.objects.create(
        case=case, actor=actor if getattr(actor, "pk", None) else None, kind=kind, from_status=old,
        to_status=new, public=public, data=data,
    )  # fmt: skip


def _move(case: Case, *, expected: tuple[str, ...], new: str, message: str, **fields) -> str:
    """Compare-and-swap the case's status; refuse with ``message`` when it is no longer in ``expected``."""
    changed = Case.objects.filter(pk=case.pk, status__in=expected).update(status=new, **fields)
    if changed != 1:
        case.refresh_from_db(fields=["status"])
        raise InvalidTransition(f"{message}（案件当前：{case.get_status_display()}）")
    old = case.status
    for name, value in {"status": new, **fields}.items():
        setattr(case, name, value)
    return old


def _text(value: Any, *, field: str, label: str, low: int = 1, high: int = 2000) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) < low:
        raise DomainError(f"请填写{label}" if low <= 1 else f"{label}至少{low}个字", field=field)
    if len(text) > high:
        raise DomainError(f"{label}不能超过{high}个字", field=field)
    return text


def _fen(value: Any, *, field: str, label: str, required: bool = True) -> int:
    if value in (None, ""):
        if required:
            raise DomainError(f"请填写{label}", field=field, code="required")
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(f"{label}必须是整数（分）", field=field)
    if value < 0:
        raise DomainError(f"{label}不能为负数", field=field)
    if value > MAX_CLAIM_FEN:
        raise DomainError(f"{label}过大，请核对", field=field)
    return value


def _is_member(employer_id: int | None, user: User) -> bool:
    return bool(employer_id) and EmployerMember.objects.filter(employer_id=employer_id, user=user).exists()


def party_side(case: Case, user: User) -> str | None:
    """ "worker" or "employer" when the user is a party of the case (employer members act for it)."""
    if user is None or not user.is_authenticated:
        return None
    if case.worker_id and case.worker_id == user.pk:
        return Case.Side.WORKER
    if _is_member(case.employer_id, user):
        return Case.Side.EMPLOYER
    return None


def _require_party(case: Case, user: User) -> str:
    side = party_side(case, user)
    if side is None:
        raise NotAllowed("您不是该案件的当事人")
    return side


def is_case_staff(user: User) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm("disputes.accept_case"))


def _require_staff(user: User, case: Case | None = None) -> None:
    if not is_case_staff(user):
        raise NotAllowed("只有纠纷受理工作人员可以这样做")
    if case is not None and not object_visible_to(user, case):
        raise NotAllowed("该案件不属于您的网点")


def _require_mediator(case: Case, user: User) -> None:
    # The stored assignment decides, not the caller's copy (the case may have been reassigned meanwhile).
    assigned = Case.objects.filter(pk=case.pk).values_list("mediator_id", flat=True).first()
    if not (user.is_active and user.role == User.Role.MEDIATOR and assigned == user.pk):
        raise NotAllowed("这不是分派给您的案件")


def _require_mediator_or_staff(case: Case, user: User) -> None:
    if is_case_staff(user) and object_visible_to(user, case):
        return
    _require_mediator(case, user)


def _person_name(user: User) -> str:
    realname = getattr(user, "realname", None)
    return realname.name if realname and realname.status == "verified" else (user.name or user.masked_phone)


def _notify_user(*, user: User, template: str, params: dict, event: str, sms: bool = True) -> None:
    message_queue(
        event_key=event, template=template, params=params, recipient=user, channel=Message.Channel.INAPP
    )
    if sms:
        message_queue(event_key=event, template=template, params=params, recipient=user)


def _notify_side(case: Case, side: str, *, template: str, params: dict, event: str) -> None:
    if side == Case.Side.WORKER:
        if case.worker_id:
            _notify_user(user=case.worker, template=template, params=params, event=event)
        elif case.complainant_side == Case.Side.WORKER and case.complainant_phone:
            message_queue(event_key=event, template=template, params=params, phone=case.complainant_phone)
    elif case.employer_id:
        for member in EmployerMember.objects.filter(employer_id=case.employer_id).select_related("user"):
            sms = member.role == EmployerMember.Role.OWNER
            _notify_user(user=member.user, template=template, params=params, event=event, sms=sms)
    elif case.complainant_side == Case.Side.EMPLOYER and case.complainant_phone:
        message_queue(event_key=event, template=template, params=params, phone=case.complainant_phone)


def _notify_parties(case: Case, *, template: str, params: dict, event: str) -> None:
    for side in (Case.Side.WORKER, Case.Side.EMPLOYER):
        _notify_side(case, side, template=template, params=params, event=event)


def _other(side: str) -> str:
    return Case.Side.EMPLOYER if side == Case.Side.WORKER else Case.Side.WORKER


def _end_hold(case: Case, *, actor: User | None, outcome: str) -> None:
    """The case ended without an agreement: the order leaves DISPUTED for the status it came from."""
    if case.order_id and Order.objects.filter(pk=case.order_id, status=Order.Status.DISPUTED).exists():
        job_services.order_dispute_end(order=case.order, actor=actor, case_id=case.pk, outcome=outcome)


def _supersede_proposals(case: Case) -> None:
    Agreement.objects.filter(case=case, status=Agreement.Status.PROPOSED).update(
        status=Agreement.Status.SUPERSEDED
    )


# -------------------------------------------------------------------------------------------- filing


def _save_evidence(case: Case, *, actor: User, side: str, uploads, note: str = "") -> list[Evidence]:
    checked = [(upload, evidence_check(upload)) for upload in uploads or ()]
    limit = settings.DISPUTES_EVIDENCE_MAX_FILES
    if Evidence.objects.filter(case=case).count() + len(checked) > limit:
        raise DomainError(f"每个案件最多{limit}份证据", field="file", code="too_many")
    saved = []
    for upload, stored in checked:
        # size and sha256 are the stored file's (a photo is re-encoded): what the mediator can verify.
        item = Evidence(
            case=case, uploaded_by=actor, side=side, original_name=(upload.name or "")[-120:],
            content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
            note=(note or "").strip()[:200],
        )  # fmt: skip
        content = stored.as_file()
        item.file.save(content.name, content, save=False)
        item.save()
        saved.append(item)
    return saved


def _clean_complaint(*, category: str, description: str, amount_claimed_fen: Any, request: str) -> dict:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if category not in FILED_CATEGORIES:
        errors["category"] = ["请选择纠纷类别"]
    for name, fn in (
        ("description", lambda: _text(description, field="description", label="事实和理由", low=5)),
        ("amount_claimed_fen", lambda: _fen(amount_claimed_fen, field="amount_claimed_fen", label="请求金额",
                                            required=category == Case.Category.WAGE_ARREARS)),
        ("request", lambda: (request or "").strip()[:300]),
    ):  # fmt: skip
        try:
            clean[name] = fn()
        except DomainError as exc:
            errors[name] = [exc.message]
    if (
        category == Case.Category.WAGE_ARREARS
        and not errors.get("amount_claimed_fen")
        and not clean.get("amount_claimed_fen")
    ):
        errors["amount_claimed_fen"] = ["拖欠工资请填写请求金额"]
    if errors:
        raise ValidationError(errors)
    return clean


def _open_case_on_order(order: Order) -> bool:
    return Case.objects.filter(order=order).exclude(status__in=Case.ENDED).exists()


@transaction.atomic
def case_file(
    *, actor: User, order: Order, category: str, description: str, amount_claimed_fen: Any = None,
    request: str = "", evidence=(),
) -> Case:  # fmt: skip
    """One tap from an order: either party files. The order becomes DISPUTED, so its escrow is held."""
    # The order's row lock serialises filings on it: a second party filing at the same moment waits, then
    # finds the first case (a Conflict, not a unique-index error). Taken as jobs takes it (post, then order).
    job_services.order_lock(order=order)
    order = Order.objects.select_related("post", "employer", "worker").get(pk=order.pk)
    if order.worker_id == actor.pk:
        side = Case.Side.WORKER
    elif _is_member(order.employer_id, actor):
        side = Case.Side.EMPLOYER
    else:
        raise NotAllowed("不是您的订单，不能发起调解")
    clean = _clean_complaint(
        category=category, description=description, amount_claimed_fen=amount_claimed_fen, request=request
    )
    for upload in evidence or ():
        evidence_check(upload)
    if _open_case_on_order(order):
        raise Conflict("该订单已有进行中的纠纷，请在原案件中补充材料", code="case_open")
    case = Case.objects.create(
        category=category, channel=Case.Channel.ONLINE, order=order, post=order.post, worker=order.worker,
        employer=order.employer, complainant_side=side, filed_by=actor,
        complainant_name=_person_name(actor), complainant_phone=actor.phone,
        respondent_name=order.employer.name if side == Case.Side.WORKER else _person_name(order.worker),
        service_point=order.post.service_point or order.employer.service_point or default_service_point(), **clean,
    )  # fmt: skip
    try:
        with transaction.atomic():
            job_services.order_mark_disputed(order=order, actor=actor, reason=case.get_category_display(),
                                             case_id=case.pk)  # fmt: skip
    except InvalidTransition as exc:
        raise InvalidTransition(
            f"该订单当前（{order.get_status_display()}）不能发起调解", code="order_state"
        ) from exc
    _event(case, actor=actor, old="", new=case.status, side=side, order=order.pk)
    _save_evidence(case, actor=actor, side=side, uploads=evidence)
    params = {"number": case.number}
    _notify_user(user=actor, template="case_filed", params=params, event=f"case:{case.pk}:filed")
    _notify_side(
        case, _other(side), template="case_filed_against",
        params={"complainant": mask_name(case.complainant_name), "subject": order.post.title,
                "category": case.get_category_display(), "number": case.number},
        event=f"case:{case.pk}:filed_against",
    )  # fmt: skip
    return case


@transaction.atomic
def case_record_oral(
    *, staff: User, complainant_name: str, complainant_phone: str, complainant_side: str = Case.Side.WORKER,
    respondent_name: str = "", category: str, request: str, description: str, amount_claimed_fen: Any = None,
    order: Order | None = None, employer: Employer | None = None,
) -> Case:  # fmt: skip
    """A walk-in's oral complaint, recorded at the hall (劳动争议调解仲裁法 art. 12: who, what is asked,
    the facts and reasons, and when). Accounts are linked when they exist: the phone's user, the order."""
    if not (staff.is_active and staff.is_staff and staff.has_perm("disputes.add_case")):
        raise NotAllowed("只有工作人员可以登记口头申请")
    errors: dict[str, list[str]] = {}
    try:
        name = _text(complainant_name, field="complainant_name", label="申请人姓名", high=40)
    except DomainError as exc:
        errors["complainant_name"] = [exc.message]
    try:
        phone = normalize_phone(complainant_phone)
    except ValidationError as exc:
        errors["complainant_phone"] = exc.messages
    if complainant_side not in Case.Side.values:
        errors["complainant_side"] = ["请选择申请人是哪一方"]
    try:
        request = _text(request, field="request", label="申请事项", high=300)
    except DomainError as exc:
        errors["request"] = [exc.message]
    try:
        clean = _clean_complaint(
            category=category, description=description, amount_claimed_fen=amount_claimed_fen, request=request
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    respondent = (respondent_name or "").strip()[:80]
    if order is None and employer is None and not respondent:
        errors["respondent_name"] = ["请填写被申请人（单位或个人）"]
    if errors:
        raise ValidationError(errors)
    user = User.objects.filter(phone=phone, is_active=True).first()
    worker = None
    if order is not None:
        job_services.order_lock(order=order)
        order = Order.objects.select_related("post", "employer", "worker").get(pk=order.pk)
        employer, worker = order.employer, order.worker
        side_user = order.worker if complainant_side == Case.Side.WORKER else None
        if complainant_side == Case.Side.WORKER and side_user.phone != phone:
            raise DomainError("申请人手机号与该订单的工人不一致", field="complainant_phone")
        if complainant_side == Case.Side.EMPLOYER and not (user and _is_member(employer.pk, user)):
            raise DomainError("申请人不是该订单用工方的成员", field="complainant_phone")
        if _open_case_on_order(order):
            raise Conflict("该订单已有进行中的纠纷", code="case_open")
    elif complainant_side == Case.Side.WORKER and user is not None and user.role == User.Role.SEEKER:
        worker = user
    case = Case.objects.create(
        category=category, channel=Case.Channel.ORAL, order=order, post=order.post if order else None,
        worker=worker, employer=employer, complainant_side=complainant_side, filed_by=user,
        complainant_name=name, complainant_phone=phone,
        respondent_name=respondent or (employer.name if employer and complainant_side == "worker" else
                                       _person_name(worker) if worker else ""),
        recorded_by=staff, service_point=staff.service_point or default_service_point(), **clean,
    )  # fmt: skip
    if order is not None:
        try:
            with transaction.atomic():
                job_services.order_mark_disputed(order=order, actor=staff, reason=case.get_category_display(),
                                                 case_id=case.pk)  # fmt: skip
        except InvalidTransition as exc:
            raise InvalidTransition(f"该订单当前（{order.get_status_display()}）不能发起调解") from exc
    _event(case, actor=staff, old="", new=case.status, channel="oral", recorded_at=timezone.now().isoformat())
    params = {"number": case.number}
    message_queue(event_key=f"case:{case.pk}:filed", template="case_filed", params=params, phone=phone,
                  recipient=user)  # fmt: skip
    return case


@transaction.atomic
def case_report_post(*, actor: User, post: Post, description: str, evidence=()) -> Case:
    """Report a fake post (虚假招工): a case without an order; the post stops showing until staff check it."""
    post = Post.objects.select_related("employer").get(pk=post.pk)
    description = _text(description, field="description", label="举报理由", low=5)
    if _is_member(post.employer_id, actor):
        raise DomainError("不能举报自己单位的岗位")
    for upload in evidence or ():
        evidence_check(upload)
    if Case.objects.filter(post=post, category=Case.Category.FAKE_POST, status__in=HOLDING).exists():
        raise Conflict("该岗位已被举报，正在核实，谢谢您", code="already_reported")
    hidden_from = job_services.post_hide_for_review(post=post, actor=actor)
    case = Case.objects.create(
        category=Case.Category.FAKE_POST, channel=Case.Channel.ONLINE, post=post, worker=actor,
        employer=post.employer, complainant_side=Case.Side.WORKER, filed_by=actor,
        complainant_name=_person_name(actor), complainant_phone=actor.phone, respondent_name=post.employer.name,
        request="核实并下架虚假招工信息", description=description, post_hidden_from=hidden_from,
        service_point=post.service_point or post.employer.service_point or default_service_point(),
    )  # fmt: skip
    _event(case, actor=actor, old="", new=case.status, post=post.pk, post_hidden=True)
    _save_evidence(case, actor=actor, side=Case.Side.WORKER, uploads=evidence)
    _notify_user(
        user=actor, template="case_filed", params={"number": case.number}, event=f"case:{case.pk}:filed"
    )
    _notify_side(case, Case.Side.EMPLOYER, template="post_hidden_for_review",
                 params={"post": post.title, "number": case.number}, event=f"case:{case.pk}:post_hidden")  # fmt: skip
    return case


@transaction.atomic
def evidence_add(*, case: Case, actor: User, uploads, note: str = "") -> list[Evidence]:
    """A party adds evidence (or staff/the mediator for a party who brought paper) while the case is open."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    side = party_side(case, actor)
    if side is None:
        _require_mediator_or_staff(case, actor)
        side = "mediator"
    if case.status not in HOLDING:
        raise InvalidTransition("案件已结束，不能再补充证据")
    if not uploads:
        raise DomainError("请选择要上传的文件", field="file", code="required")
    saved = _save_evidence(case, actor=actor, side=side, uploads=uploads, note=note)
    _event(case, actor=actor, old=case.status, new=case.status, kind="evidence", side=side,
           files=[e.original_name for e in saved])  # fmt: skip
    return saved


# ---------------------------------------------------------------------------------- staff decisions


def _check_mediator(mediator: Any) -> User:
    if not isinstance(mediator, User) or not mediator.is_active or mediator.role != User.Role.MEDIATOR:
        raise DomainError("请选择调解员", field="mediator")
    return mediator


@transaction.atomic
def case_accept(*, case: Case, actor: User, mediator: User) -> Case:
    """Staff accept the case and assign a mediator; the 15-day clock (art. 14) starts now."""
    _require_staff(actor, case)
    mediator = _check_mediator(mediator)
    now = timezone.now()
    deadline = now + dt.timedelta(days=deadline_days())
    old = _move(case, expected=(Case.Status.FILED,), new=Case.Status.ACCEPTED, message="只有新申请可以受理",
                accepted_at=now, deadline_at=deadline, mediator=mediator)  # fmt: skip
    _event(case, actor=actor, old=old, new=case.status, mediator=mediator.pk, deadline=deadline.isoformat())
    _notify_parties(case, template="case_accepted", event=f"case:{case.pk}:accepted",
                    params={"number": case.number, "mediator": mediator.name or "调解员",
                            "deadline": f"{timezone.localtime(deadline):%m月%d日}"})  # fmt: skip
    _notify_user(user=mediator, template="case_assigned", event=f"case:{case.pk}:assigned:{mediator.pk}",
                 params={"number": case.number, "deadline": f"{timezone.localtime(deadline):%m月%d日}"})  # fmt: skip
    return case


@transaction.atomic
def case_decline(*, case: Case, actor: User, reason: str) -> Case:
    """Not for mediation here (e.g. outside the scope): the order's escrow is free again, a hidden post
    shows again."""
    _require_staff(actor, case)
    reason = _text(reason, field="reason", label="不予受理的原因", high=300)
    now = timezone.now()
    old = _move(case, expected=(Case.Status.FILED,), new=Case.Status.DECLINED, message="只有新申请可以不予受理",
                decline_reason=reason, ended_at=now, closed_at=now)  # fmt: skip
    _event(case, actor=actor, old=old, new=case.status, reason=reason)
    _end_hold(case, actor=actor, outcome="declined")
    if case.post_hidden_from and case.post_id:
        job_services.post_restore(post=case.post, actor=actor, status=case.post_hidden_from)
    _notify_side(case, case.complainant_side, template="case_declined", event=f"case:{case.pk}:declined",
                 params={"number": case.number, "reason": reason})  # fmt: skip
    return case


@transaction.atomic
def case_assign(*, case: Case, actor: User, mediator: User) -> Case:
    """Hand an accepted case to another mediator (the deadline stays)."""
    _require_staff(actor, case)
    mediator = _check_mediator(mediator)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in (Case.Status.ACCEPTED, Case.Status.MEDIATING):
        raise InvalidTransition(f"只有受理后、结束前的案件可以改派（案件当前：{case.get_status_display()}）")
    previous = case.mediator_id
    Case.objects.filter(pk=case.pk).update(mediator=mediator)
    case.mediator = mediator
    _event(case, actor=actor, old=case.status, new=case.status, kind="assign", public=False,
           mediator=mediator.pk, previous=previous)  # fmt: skip
    _notify_user(user=mediator, template="case_assigned", event=f"case:{case.pk}:assigned:{mediator.pk}",
                 params={"number": case.number, "deadline": f"{timezone.localtime(case.deadline_at):%m月%d日}"})  # fmt: skip
    return case


@transaction.atomic
def case_post_review(*, case: Case, actor: User, upheld: bool, note: str) -> Case:
    """Staff decide a fake-post report: upheld → the post is taken down for good; not upheld → it shows
    again. The case closes either way."""
    _require_staff(actor, case)
    note = _text(note, field="note", label="核实说明", high=300)
    if case.category != Case.Category.FAKE_POST:
        raise InvalidTransition("只有虚假招工举报需要核实岗位")
    now = timezone.now()
    old = _move(case, expected=(Case.Status.FILED, Case.Status.ACCEPTED), new=Case.Status.CLOSED,
                message="该举报已处理", outcome_note=("举报属实：" if upheld else "举报不实：") + note,
                ended_at=now, closed_at=now)  # fmt: skip
    _event(case, actor=actor, old=old, new=case.status, upheld=upheld, note=note)
    post = case.post
    if upheld:
        post = job_services.post_remove_after_review(post=post, actor=actor)
    else:
        post = job_services.post_restore(
            post=post, actor=actor, status=case.post_hidden_from or Post.Status.OPEN
        )
    result = "经核实存在问题，已下架" if upheld else "未发现问题，已恢复展示"
    if post.status in (Post.Status.CANCELLED, Post.Status.EXPIRED):  # it ended while it was being checked
        result = ("经核实存在问题；" if upheld else "未发现问题；") + f"该岗位已{post.get_status_display()}"
    _notify_parties(case, template="post_review_result", event=f"case:{case.pk}:post_review",
                    params={"post": post.title, "result": result})  # fmt: skip
    return case


# ----------------------------------------------------------------------------------- the mediator


@transaction.atomic
def case_start_mediation(*, case: Case, actor: User) -> Case:
    _require_mediator(case, actor)
    old = _move(
        case, expected=(Case.Status.ACCEPTED,), new=Case.Status.MEDIATING, message="受理后才能开始调解"
    )
    _event(case, actor=actor, old=old, new=case.status)
    return case


def _ensure_mediating(case: Case, actor: User) -> None:
    if case.status == Case.Status.ACCEPTED:
        case_start_mediation(case=case, actor=actor)
    elif case.status != Case.Status.MEDIATING:
        raise InvalidTransition(f"案件不在调解中（案件当前：{case.get_status_display()}）")


@transaction.atomic
def session_schedule(*, case: Case, actor: User, starts_at: Any, room: str, attendees: str = "") -> Session:
    """Set a mediation session; the parties get an SMS. The first one starts the mediation."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    _require_mediator(case, actor)
    now = timezone.now()
    if not isinstance(starts_at, dt.datetime):
        raise DomainError("请填写调解时间", field="starts_at")
    if starts_at < now - dt.timedelta(hours=12) or starts_at > now + dt.timedelta(days=60):
        raise DomainError("调解时间应在今天到60天之内", field="starts_at")
    room = _text(room, field="room", label="调解地点", high=80)
    _ensure_mediating(case, actor)
    session = Session.objects.create(
        case=case, starts_at=starts_at, room=room, attendees=(attendees or "").strip()[:300], created_by=actor
    )
    _event(case, actor=actor, old=case.status, new=case.status, kind="session", session=session.pk,
           starts_at=starts_at.isoformat(), room=room)  # fmt: skip
    _notify_parties(case, template="case_session", event=f"case:{case.pk}:session:{session.pk}",
                    params={"number": case.number, "time": _local(starts_at), "room": room})  # fmt: skip
    return session


@transaction.atomic
def session_record(*, session: Session, actor: User, attendees: str, notes: str) -> Session:
    """The minutes of a session (who came, what was said): the mediator's record."""
    _require_mediator(session.case, actor)
    notes = _text(notes, field="notes", label="调解笔录", high=4000)
    Session.objects.filter(pk=session.pk).update(attendees=(attendees or "").strip()[:300], notes=notes)
    session.refresh_from_db()
    return session


@transaction.atomic
def note_add(*, case: Case, actor: User, text: str) -> PrivateNote:
    """A private note: the mediator's alone, never shown to the parties."""
    _require_mediator(case, actor)
    return PrivateNote.objects.create(
        case=case, author=actor, text=_text(text, field="text", label="笔记", high=4000)
    )


@transaction.atomic
def case_message(*, case: Case, actor: User, text: str, to: str) -> CaseEvent:
    """A message from the mediator to one party or both: in-app and SMS."""
    _require_mediator(case, actor)
    text = _text(text, field="text", label="留言", high=200)
    if to not in ("worker", "employer", "both"):
        raise DomainError("请选择发给谁", field="to")
    event = _event(case, actor=actor, old=case.status, new=case.status, kind="message", to=to, text=text)
    sides = (Case.Side.WORKER, Case.Side.EMPLOYER) if to == "both" else (to,)
    for side in sides:
        _notify_side(case, side, template="case_message", event=f"case:{case.pk}:message:{event.pk}",
                     params={"number": case.number, "text": text})  # fmt: skip
    return event


def party_contact(
    *, case: Case, actor: User, ip_address: str | None = None, reason: str = ""
) -> dict[str, str]:
    """Full names and phones of the parties, for a mediator or staff member holding the permission; the
    view is written to the audit log."""
    _require_mediator_or_staff(case, actor)
    if not actor.has_perm("disputes.view_party_contact"):
        raise NotAllowed("没有查看当事人完整联系方式的权限")
    audit_record(actor=actor, action="unmask_contact", target=case, reason=(reason or "调解联系当事人")[:300],
                 ip_address=ip_address)  # fmt: skip
    contact = {"complainant": f"{case.complainant_name} {case.complainant_phone}".strip()}
    if case.worker_id:
        contact["worker"] = f"{_person_name(case.worker)} {case.worker.phone}"
    if case.employer_id:
        owners = EmployerMember.objects.filter(employer_id=case.employer_id).select_related("user")
        contact["employer"] = "；".join(f"{case.employer.name} {m.user.name} {m.user.phone}" for m in owners)
    return contact


@transaction.atomic
def case_fail(*, case: Case, actor: User, reason: str) -> Case:
    """No agreement (调解不成): the escrow is no longer held; the parties may go to arbitration."""
    _require_mediator(case, actor)
    reason = _text(reason, field="reason", label="调解不成的原因", high=300)
    old = _move(case, expected=(Case.Status.ACCEPTED, Case.Status.MEDIATING), new=Case.Status.FAILED,
                message="只有调解中的案件可以终止调解", outcome_note=reason, ended_at=timezone.now())  # fmt: skip
    _supersede_proposals(case)
    _event(case, actor=actor, old=old, new=case.status, reason=reason)
    _end_hold(case, actor=actor, outcome="failed")
    _notify_parties(case, template="case_failed", event=f"case:{case.pk}:failed",
                    params={"number": case.number, "reason": reason})  # fmt: skip
    return case


@transaction.atomic
def case_close(*, case: Case, actor: User) -> Case:
    """File the case away (结案) after it was agreed or failed."""
    _require_mediator_or_staff(case, actor)
    old = _move(case, expected=(Case.Status.AGREED, Case.Status.FAILED), new=Case.Status.CLOSED,
                message="调解成功或调解不成后才能结案", closed_at=timezone.now())  # fmt: skip
    _event(case, actor=actor, old=old, new=case.status)
    _notify_parties(
        case, template="case_closed", event=f"case:{case.pk}:closed", params={"number": case.number}
    )
    return case


@transaction.atomic
def case_transfer(*, case: Case, actor: User, to: str, organisation: str, note: str) -> Transfer:
    """Hand the case to labour arbitration or the social-governance centre, with a transfer record."""
    _require_mediator_or_staff(case, actor)
    if to not in Transfer.To.values:
        raise DomainError("请选择移交单位类型", field="to")
    organisation = _text(organisation, field="organisation", label="接收单位", high=100)
    note = _text(note, field="note", label="移交说明", high=500)
    now = timezone.now()
    old = _move(case, expected=(Case.Status.ACCEPTED, Case.Status.MEDIATING, Case.Status.FAILED),
                new=Case.Status.TRANSFERRED, message="该案件不能移交", ended_at=case.ended_at or now,
                closed_at=now)  # fmt: skip
    _supersede_proposals(case)
    transfer = Transfer.objects.create(
        case=case, to=to, organisation=organisation, note=note, created_by=actor
    )
    _event(case, actor=actor, old=old, new=case.status, to=to, organisation=organisation, note=note)
    _end_hold(case, actor=actor, outcome="transferred")
    _notify_parties(case, template="case_transferred", event=f"case:{case.pk}:transferred",
                    params={"number": case.number, "to": organisation, "note": note})  # fmt: skip
    return transfer


# --------------------------------------------------------------------------------------- agreement


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _clean_terms(terms: Any) -> list[dict]:
    if terms in (None, ""):
        return []
    if not isinstance(terms, list):
        raise DomainError("协议条款格式不正确", field="terms")
    clean = []
    for index, term in enumerate(terms, start=1):
        if not isinstance(term, dict):
            raise DomainError(f"第{index}条条款格式不正确", field="terms")
        text = (term.get("text") or "").strip() if isinstance(term.get("text"), str) else ""
        if not text:
            raise DomainError(f"第{index}条条款请填写内容", field="terms")
        if "amount_fen" not in term or term["amount_fen"] in (None, ""):
            raise DomainError(f"第{index}条条款请填写金额（没有金额填0）", field="terms")
        amount = term["amount_fen"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0 or amount > MAX_CLAIM_FEN:
            raise DomainError(f"第{index}条条款的金额不能为负数", field="terms")
        due = term.get("due_on")
        if isinstance(due, str):
            try:
                due = dt.date.fromisoformat(due)
            except ValueError as exc:
                raise DomainError(f"第{index}条条款的日期不正确", field="terms") from exc
        if not isinstance(due, dt.date):
            raise DomainError(f"第{index}条条款请填写履行日期", field="terms")
        clean.append({"text": text[:300], "amount_fen": amount, "due_on": due.isoformat()})
    return clean


def agreement_body(*, case: Case, facts: str, disputed_items: str, terms: list[dict], worker_amount_fen: int,
                   pay_by: dt.date, mediator: User) -> str:  # fmt: skip
    """The text of the agreement, fixed by its SHA-256: the PDF prints exactly this."""
    worker_name = _person_name(case.worker) if case.worker_id else case.complainant_name
    employer_name = case.employer.name if case.employer_id else case.respondent_name
    lines = [
        "人民调解协议书",
        f"编号：{case.number}",
        "",
        "当事人",
        f"劳动者：{worker_name}",
        f"用工方：{employer_name}",
        f"调解员：{mediator.name or '调解员'}",
    ]
    if case.order_id:
        lines.append(f"关联订单：GM-{case.order_id:08d}（{case.post.title if case.post_id else ''}）")
    lines += ["", "一、基本事实", facts, "", "二、争议事项", disputed_items, "", "三、协议内容"]
    lines.append(
        f"1. 用工方于{pay_by:%Y年%m月%d日}前支付劳动者 {_yuan(worker_amount_fen)} 元"
        + ("，由平台托管资金先行支付，不足部分从用工方账户扣付。" if case.order_id else "。")
    )
    for number, term in enumerate(terms, start=2):
        due = dt.date.fromisoformat(term["due_on"])
        amount = f"，金额 {_yuan(term['amount_fen'])} 元" if term["amount_fen"] else ""
        lines.append(f"{number}. {term['text']}{amount}，履行期限 {due:%Y年%m月%d日}。")
    lines += [
        "",
        "四、其他",
        "本协议经双方当事人以短信验证码确认、调解员签名后生效，双方应当自觉履行。"
        "一方未按期履行的，另一方可以依法申请劳动争议仲裁。",
    ]
    return "\n".join(lines)


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@transaction.atomic
def agreement_propose(
    *, case: Case, actor: User, facts: str, disputed_items: str, worker_amount_fen: Any, pay_by: Any,
    terms: Any = None,
) -> Agreement:  # fmt: skip
    """The mediator writes the agreement and sends it to both parties (a newer draft replaces an older one
    not yet signed by the mediator)."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("worker", "employer", "post")
        .get(pk=case.pk)
    )
    _require_mediator(case, actor)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    checks = {
        "facts": lambda: _text(facts, field="facts", label="基本事实", high=2000),
        "disputed_items": lambda: _text(disputed_items, field="disputed_items", label="争议事项", high=1000),
        "worker_amount_fen": lambda: _fen(worker_amount_fen, field="worker_amount_fen", label="支付金额"),
        "terms": lambda: _clean_terms(terms),
    }
    for name, check in checks.items():
        try:
            clean[name] = check()
        except DomainError as exc:
            errors[name] = [exc.message]
    if isinstance(pay_by, str):
        try:
            pay_by = dt.date.fromisoformat(pay_by)
        except ValueError:
            pay_by = None
    if not isinstance(pay_by, dt.date):
        errors["pay_by"] = ["请填写支付期限"]
    elif pay_by < timezone.localdate():
        errors["pay_by"] = ["支付期限不能早于今天"]
    if errors:
        raise ValidationError(errors)
    if not (case.worker_id and case.employer_id):
        raise DomainError("双方都有平台账户才能线上确认协议；请打印协议线下签字", code="parties_offline")
    _ensure_mediating(case, actor)
    if Agreement.objects.filter(case=case, status=Agreement.Status.SIGNED).exists():
        raise InvalidTransition("该案件的协议已生效")
    _supersede_proposals(case)
    body = agreement_body(case=case, pay_by=pay_by, mediator=actor, **clean)
    agreement = Agreement.objects.create(
        case=case, facts=clean["facts"], disputed_items=clean["disputed_items"], terms=clean["terms"],
        worker_amount_fen=clean["worker_amount_fen"], pay_by=pay_by, body=body, content_hash=content_hash(body),
        created_by=actor,
    )  # fmt: skip
    _event(case, actor=actor, old=case.status, new=case.status, kind="agreement", agreement=agreement.pk,
           action="proposed", amount_fen=agreement.worker_amount_fen)  # fmt: skip
    _notify_parties(case, template="agreement_proposed", event=f"case:{case.pk}:agreement:{agreement.pk}",
                    params={"number": case.number})  # fmt: skip
    return agreement


def _live_agreement(agreement: Agreement, user: User) -> tuple[Agreement, str]:
    agreement = Agreement.objects.select_related("case").get(pk=agreement.pk)
    side = _require_party(agreement.case, user)
    if agreement.status != Agreement.Status.PROPOSED:
        raise InvalidTransition(f"该协议{agreement.get_status_display()}，不能再确认或拒绝")
    return agreement, side


def agreement_code_send(*, agreement: Agreement, user: User, ip_address: str | None = None) -> None:
    agreement, side = _live_agreement(agreement, user)
    if getattr(agreement, f"{side}_signed_at"):
        raise InvalidTransition("您已确认过该协议")
    account_services.phone_code_send(
        phone=user.phone, purpose=PhoneCode.Purpose.CONFIRM, ip_address=ip_address
    )


def agreement_sign(*, agreement: Agreement, user: User, code: str) -> Agreement:
    """A party confirms the agreement with an SMS code. The code check commits on its own (see accounts):
    a wrong code counts even though nothing else changes."""
    agreement, side = _live_agreement(agreement, user)
    if content_hash(agreement.body) != agreement.content_hash:
        raise Conflict("协议内容校验失败，请联系调解员")
    if getattr(agreement, f"{side}_signed_at"):
        raise InvalidTransition("您已确认过该协议")
    account_services.phone_code_check(phone=user.phone, purpose=PhoneCode.Purpose.CONFIRM, code=code)
    with transaction.atomic():
        now = timezone.now()
        live = Agreement.objects.filter(pk=agreement.pk, status=Agreement.Status.PROPOSED)
        if side == Case.Side.WORKER:
            changed = live.filter(worker_signed_at__isnull=True).update(worker_signed_at=now)
        else:
            changed = live.filter(employer_signed_at__isnull=True).update(employer_signed_at=now,
                                                                          employer_signed_by=user)  # fmt: skip
        if changed != 1:
            raise InvalidTransition("该协议已变更，请刷新后再确认")
        agreement.refresh_from_db()
        case = agreement.case
        _event(case, actor=user, old=case.status, new=case.status, kind="agreement", agreement=agreement.pk,
               action="signed", side=side, hash=agreement.content_hash)  # fmt: skip
        if agreement.parties_signed and case.mediator_id:
            _notify_user(user=case.mediator, template="agreement_parties_signed",
                         event=f"case:{case.pk}:agreement:{agreement.pk}:parties", params={"number": case.number})  # fmt: skip
    return agreement


@transaction.atomic
def agreement_reject(*, agreement: Agreement, user: User, reason: str) -> Agreement:
    agreement, side = _live_agreement(agreement, user)
    reason = _text(reason, field="reason", label="不同意的原因", high=300)
    changed = Agreement.objects.filter(pk=agreement.pk, status=Agreement.Status.PROPOSED).update(
        status=Agreement.Status.REJECTED, rejected_by=user, reject_reason=reason
    )
    if changed != 1:
        raise InvalidTransition("该协议已变更，请刷新")
    agreement.refresh_from_db()
    case = agreement.case
    _event(case, actor=user, old=case.status, new=case.status, kind="agreement", agreement=agreement.pk,
           action="rejected", side=side, reason=reason)  # fmt: skip
    if case.mediator_id:
        _notify_user(user=case.mediator, template="agreement_rejected",
                     event=f"case:{case.pk}:agreement:{agreement.pk}:rejected",
                     params={"number": case.number, "party": Case.Side(side).label, "reason": reason})  # fmt: skip
    return agreement


@transaction.atomic
def agreement_mediator_sign(*, agreement: Agreement, actor: User) -> Agreement:
    """The mediator signs last: the agreement takes effect, the case is agreed, the order leaves DISPUTED
    (completed with the agreed pay) and the money moves through the wallet. What was paid to the worker is
    recorded on the case as wages recovered; what the employer's account could not cover stays owed."""
    agreement = Agreement.objects.select_for_update(of=("self",)).select_related("case").get(pk=agreement.pk)
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("order", "post").get(pk=agreement.case_id)
    )
    _require_mediator(case, actor)
    if agreement.status != Agreement.Status.PROPOSED:
        raise InvalidTransition(f"该协议{agreement.get_status_display()}，不能签名")
    if not agreement.parties_signed:
        raise InvalidTransition("双方当事人都确认后，调解员才能签名")
    if content_hash(agreement.body) != agreement.content_hash:
        raise Conflict("协议内容校验失败")
    now = timezone.now()
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.SIGNED, mediator_signed_at=now)
    agreement.refresh_from_db()
    old = _move(case, expected=(Case.Status.MEDIATING,), new=Case.Status.AGREED, message="案件不在调解中",
                ended_at=now)  # fmt: skip
    amount = agreement.worker_amount_fen
    paid, owed = 0, amount
    if case.order_id:
        order = job_services.order_dispute_end(order=case.order, actor=actor, case_id=case.pk, outcome="agreed",
                                               amount_fen=amount)  # fmt: skip
        paid, owed = money.order_settle_by_agreement(order=order, to_worker_fen=amount,
                                                      key=f"case:{case.pk}:agreement:{agreement.pk}", actor=actor)  # fmt: skip
    Case.objects.filter(pk=case.pk).update(recovered_fen=paid, owed_fen=owed)
    case.recovered_fen, case.owed_fen = paid, owed
    _event(case, actor=actor, old=old, new=case.status, agreement=agreement.pk, amount_fen=amount,
           recovered_fen=paid, owed_fen=owed)  # fmt: skip
    extra = f"已到账{_yuan(paid)}元。" if case.order_id else "请按协议期限履行。"
    if owed and case.order_id:
        extra += f"尚欠{_yuan(owed)}元，用工方须于{agreement.pay_by:%m月%d日}前付清。"
    _notify_parties(case, template="case_agreed", event=f"case:{case.pk}:agreed",
                    params={"number": case.number, "amount": _yuan(amount), "extra": extra})  # fmt: skip
    return agreement


# ------------------------------------------------------------------------------------ deadlines


def cases_check_deadlines(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Beat task body: remind the mediator once when a case nears its deadline and once when it passes it.
    Each reminder is claimed by a compare-and-swap on its timestamp, so two runs never send it twice."""
    now = now or timezone.now()
    counts = {"near": 0, "overdue": 0}
    live = Case.objects.filter(status__in=(Case.Status.ACCEPTED, Case.Status.MEDIATING), deadline_at__isnull=False,
                               mediator__isnull=False)  # fmt: skip
    plans = (
        ("overdue", live.filter(deadline_at__lte=now, reminded_overdue_at__isnull=True), "reminded_overdue_at",
         "case_deadline_over"),
        ("near", live.filter(deadline_at__gt=now, deadline_at__lte=now + dt.timedelta(days=warning_days()),
                             reminded_near_at__isnull=True), "reminded_near_at", "case_deadline_near"),
    )  # fmt: skip
    for flag, queryset, field, template in plans:
        for case in queryset.select_related("mediator"):
            with transaction.atomic():
                if not Case.objects.filter(pk=case.pk, **{f"{field}__isnull": True}).update(**{field: now}):
                    continue
                if flag == "overdue" and not case.reminded_near_at:
                    Case.objects.filter(pk=case.pk, reminded_near_at__isnull=True).update(
                        reminded_near_at=now
                    )
                _event(case, actor=None, old=case.status, new=case.status, kind="deadline", public=False, flag=flag,
                       deadline=case.deadline_at.isoformat())  # fmt: skip
                _notify_user(user=case.mediator, template=template, event=f"case:{case.pk}:deadline:{flag}",
                             params={"number": case.number,
                                     "deadline": f"{timezone.localtime(case.deadline_at):%m月%d日 %H:%M}"})  # fmt: skip
                counts[flag] += 1
    return counts
