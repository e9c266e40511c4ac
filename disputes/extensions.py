"""A case's deadline extended once (调解延期), and wages recovered outside the platform (线下追回).

Extension: the mediator proposes a new deadline with a reason (:func:`extension_propose`); each party
confirms with an SMS code, as for the mediation agreement (:func:`extension_agree`); with both it applies:
the case's deadline moves, its reminders are re-armed for the new date (``cases_check_deadlines`` follows
``deadline_at``), and the parties are told. Either party may refuse it. At most one extension is applied per
case (a constraint), and at most :data:`MAX_EXTENSION_DAYS` beyond the current deadline.

Recovery: on a case with no order (an oral complaint), money the employer paid the worker outside the
platform is recorded by the mediator — amount, date, method, an optional photo of the receipt (checked by
core.uploads). It adds to the case's ``recovered_fen`` (the dashboard's wages recovered) and each row keeps
its source, so figures can show platform and offline apart (:func:`disputes.selectors.case_figures`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import services as account_services
from accounts.models import PhoneCode, User
from core.errors import DomainError, InvalidTransition
from core.uploads import upload_check

from .models import Case, Extension, Recovery
from .services import (
    _event,
    _fen,
    _notify_parties,
    _notify_user,
    _require_mediator,
    _require_party,
    _text,
    _yuan,
)

MAX_EXTENSION_DAYS = 30
EXTENDABLE = (Case.Status.ACCEPTED, Case.Status.MEDIATING)
RECORDABLE = (
    Case.Status.ACCEPTED,
    Case.Status.MEDIATING,
    Case.Status.AGREED,
    Case.Status.FAILED,
    Case.Status.CLOSED,
)


def _local(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%m月%d日 %H:%M}"


# --------------------------------------------------------------------------------------------- extension


@transaction.atomic
def extension_propose(*, case: Case, actor: User, reason: str, new_deadline: Any) -> Extension:
    _require_mediator(case, actor)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in EXTENDABLE or case.deadline_at is None:
        raise InvalidTransition(f"只有调解中的案件可以延期（案件当前：{case.get_status_display()}）")
    if not (case.worker_id and case.employer_id):
        raise DomainError("双方都有平台账户才能在线确认延期；请当面签署书面延期确认", code="party_offline")
    if case.extensions.filter(status=Extension.Status.APPLIED).exists():
        raise InvalidTransition("该案件已经延期过一次，不能再延期", code="extended_once")
    reason = _text(reason, field="reason", label="延期理由", low=4, high=300)
    if not isinstance(new_deadline, dt.datetime):
        raise DomainError("请填写新的调解期限", field="new_deadline")
    if new_deadline <= max(case.deadline_at, timezone.now()):
        raise DomainError(f"新期限须晚于原期限（{_local(case.deadline_at)}）", field="new_deadline")
    if new_deadline > case.deadline_at + dt.timedelta(days=MAX_EXTENSION_DAYS):
        raise DomainError(f"最多延长{MAX_EXTENSION_DAYS}天", field="new_deadline")
    try:
        with transaction.atomic():
            extension = Extension.objects.create(
                case=case, reason=reason, old_deadline=case.deadline_at, new_deadline=new_deadline,
                proposed_by=actor,
            )  # fmt: skip
    except IntegrityError as exc:
        raise InvalidTransition("已有一份延期申请等待双方确认", code="extension_pending") from exc
    _event(case, actor=actor, old=case.status, new=case.status, kind="extension", action="proposed",
           extension=extension.pk, reason=reason, new_deadline=new_deadline.isoformat())  # fmt: skip
    _notify_parties(case, template="case_extension_proposed", event=f"case:{case.pk}:extension:{extension.pk}",
                    params={"number": case.number, "deadline": _local(new_deadline), "reason": reason})  # fmt: skip
    return extension


def _live(extension: Extension, user: User) -> tuple[Extension, str]:
    extension = Extension.objects.select_related("case").get(pk=extension.pk)
    side = _require_party(extension.case, user)
    if extension.status != Extension.Status.PROPOSED:
        raise InvalidTransition(f"该延期申请{extension.get_status_display()}，不能再确认或拒绝")
    if getattr(extension, f"{side}_agreed_at"):
        raise InvalidTransition("您已同意过该延期")
    return extension, side


def extension_code_send(*, extension: Extension, user: User, ip_address: str | None = None) -> None:
    _live(extension, user)
    account_services.phone_code_send(
        phone=user.phone, purpose=PhoneCode.Purpose.CONFIRM, ip_address=ip_address
    )


def extension_agree(*, extension: Extension, user: User, code: str) -> Extension:
    """A party agrees with an SMS code (the code check commits on its own: a wrong code counts)."""
    extension, side = _live(extension, user)
    account_services.phone_code_check(phone=user.phone, purpose=PhoneCode.Purpose.CONFIRM, code=code)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=extension.case_id)
        now = timezone.now()
        live = Extension.objects.filter(pk=extension.pk, status=Extension.Status.PROPOSED)
        if side == Case.Side.WORKER:
            changed = live.filter(worker_agreed_at__isnull=True).update(worker_agreed_at=now)
        else:
            changed = live.filter(employer_agreed_at__isnull=True).update(employer_agreed_at=now,
                                                                          employer_agreed_by=user)  # fmt: skip
        if changed != 1:
            raise InvalidTransition("该延期申请已变更，请刷新后再确认")
        extension.refresh_from_db()
        _event(case, actor=user, old=case.status, new=case.status, kind="extension", action="agreed", side=side,
               extension=extension.pk)  # fmt: skip
        if extension.worker_agreed_at and extension.employer_agreed_at:
            _apply(case, extension, now)
    return extension


def _apply(case: Case, extension: Extension, now: dt.datetime) -> None:
    if case.status not in EXTENDABLE:
        raise InvalidTransition(f"案件已{case.get_status_display()}，延期不再适用")
    Extension.objects.filter(pk=extension.pk).update(status=Extension.Status.APPLIED, applied_at=now)
    extension.status, extension.applied_at = Extension.Status.APPLIED, now
    # The reminders follow the new date: both are re-armed (cases_check_deadlines reads deadline_at).
    Case.objects.filter(pk=case.pk).update(
        deadline_at=extension.new_deadline, reminded_near_at=None, reminded_overdue_at=None
    )
    _event(case, actor=None, old=case.status, new=case.status, kind="extension", action="applied",
           extension=extension.pk, old_deadline=extension.old_deadline.isoformat(),
           new_deadline=extension.new_deadline.isoformat(), reason=extension.reason)  # fmt: skip
    params = {"number": case.number, "deadline": _local(extension.new_deadline)}
    _notify_parties(case, template="case_extended", event=f"case:{case.pk}:extended", params=params)
    if case.mediator_id:
        _notify_user(user=case.mediator, template="case_extended", event=f"case:{case.pk}:extended", params=params,
                     sms=False)  # fmt: skip


@transaction.atomic
def extension_reject(*, extension: Extension, user: User, reason: str) -> Extension:
    extension, side = _live(extension, user)
    reason = _text(reason, field="reason", label="不同意的原因", high=300)
    changed = Extension.objects.filter(pk=extension.pk, status=Extension.Status.PROPOSED).update(
        status=Extension.Status.REJECTED, rejected_by=user, reject_reason=reason
    )
    if changed != 1:
        raise InvalidTransition("该延期申请已变更，请刷新")
    case = extension.case
    _event(case, actor=user, old=case.status, new=case.status, kind="extension", action="rejected", side=side,
           extension=extension.pk, reason=reason)  # fmt: skip
    if case.mediator_id:
        _notify_user(user=case.mediator, template="case_extension_rejected", event=f"case:{case.pk}:extension:"
                     f"{extension.pk}:rejected", params={"number": case.number, "reason": reason}, sms=False)  # fmt: skip
    extension.refresh_from_db()
    return extension


def live_extension(*, case: Case) -> Extension | None:
    return case.extensions.filter(status=Extension.Status.PROPOSED).first()


# ---------------------------------------------------------------------------------------------- recovery


@transaction.atomic
def recovery_record(
    *, case: Case, actor: User, amount_fen: Any, paid_on: Any, method: str, note: str = "", receipt=None
) -> Recovery:
    """The mediator records wages paid outside the platform on a case with no order."""
    _require_mediator(case, actor)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.order_id:
        raise DomainError("有订单的案件经平台结算，不能登记线下追回", code="has_order")
    if case.status not in RECORDABLE:
        raise InvalidTransition(f"该案件不能登记追回工资（案件当前：{case.get_status_display()}）")
    amount = _fen(amount_fen, field="amount", label="追回金额")
    if amount <= 0:
        raise DomainError("追回金额必须大于0", field="amount")
    if not isinstance(paid_on, dt.date):
        raise DomainError("请填写支付日期", field="paid_on")
    if paid_on > timezone.localdate() or paid_on < timezone.localdate(case.filed_at) - dt.timedelta(days=365):
        raise DomainError("支付日期须在申请前一年内且不晚于今天", field="paid_on")
    if method not in Recovery.Method.values:
        raise DomainError("请选择支付方式", field="method")
    note = (note or "").strip()[:200]
    recovery = Recovery(
        case=case, amount_fen=amount, paid_on=paid_on, method=method, note=note, recorded_by=actor
    )
    if receipt:
        try:
            checked = upload_check(receipt)
        except ValidationError as exc:
            raise DomainError(exc.messages[0], field="receipt") from exc
        recovery.receipt_type = checked.content_type
        content = checked.as_file()
        recovery.receipt.save(content.name, content, save=False)
    recovery.save()
    Case.objects.filter(pk=case.pk).update(recovered_fen=F("recovered_fen") + amount)
    _event(case, actor=actor, old=case.status, new=case.status, kind="recovery", recovery=recovery.pk,
           amount_fen=amount, paid_on=paid_on.isoformat(), method=method,
           method_label=recovery.get_method_display(), receipt=bool(receipt))  # fmt: skip
    _notify_parties(case, template="case_recovery_recorded", event=f"case:{case.pk}:recovery:{recovery.pk}",
                    params={"number": case.number, "amount": _yuan(amount), "method": recovery.get_method_display(),
                            "date": f"{paid_on:%m月%d日}"})  # fmt: skip
    return recovery
