"""Outreach writes: follow-up tasks and calls, training sign-ups, attendance and certificates, training
needs, and staff bulk imports.

Keyword-only and atomic. Seats are protected in the database (a guarded ``UPDATE … WHERE seats_left > 0``);
status changes lock the row, check the current status, and write an event row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.models import User
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from core.scoping import object_visible_to
from jobs.models import Order, Trade
from notifications.services import message_queue

from .models import Course, Enrollment, EnrollmentEvent, FollowUp, FollowUpCall, TrainingNeed
from .selectors import followups_visible_to

# --------------------------------------------------------------------------------------- follow-ups


def followups_create_due(*, now: dt.datetime | None = None) -> int:
    """Create the follow-up task of every recently completed order that has none. Idempotent: the task is
    unique per order, and concurrent runs lose the insert quietly (``ignore_conflicts``)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=settings.OUTREACH_FOLLOWUP_LOOKBACK_DAYS)
    orders = (
        Order.objects.filter(status=Order.Status.COMPLETED, completed_at__gte=since)
        .filter(~Exists(FollowUp.objects.filter(order=OuterRef("pk"))))
        .select_related("worker")
        .order_by("pk")
    )
    delay = dt.timedelta(days=settings.OUTREACH_FOLLOWUP_DELAY_DAYS)
    created = 0
    batch: list[FollowUp] = []
    for order in orders.iterator(chunk_size=500):
        due = timezone.localdate(order.completed_at) + delay
        batch.append(
            FollowUp(
                order=order,
                worker=order.worker,
                service_point_id=order.worker.service_point_id,
                first_due_on=due,
                due_on=due,
                created_at=now,
            )
        )
        if len(batch) >= 500:
            created += len(FollowUp.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    if batch:
        created += len(FollowUp.objects.bulk_create(batch, ignore_conflicts=True))
    return created


def _require_followup_staff(actor: User, followup: FollowUp) -> None:
    if not (actor.is_active and actor.is_staff and actor.has_perm("outreach.change_followup")):
        raise NotAllowed("只有网点工作人员可以登记回访")
    if not followups_visible_to(user=actor).filter(pk=followup.pk).exists():
        raise NotAllowed("只能回访本网点的任务")


@transaction.atomic
def followup_record_call(
    *,
    followup: FollowUp,
    actor: User,
    reached: bool,
    outcome: str = "",
    satisfaction: int | None = None,
    wage_paid_in_full: bool | None = None,
    needs_help: bool = False,
    wants_training: bool = False,
    training_trade: Trade | None = None,
    notes: str = "",
) -> FollowUp:
    """Record one call. Not reached: the task comes back after the retry delay, and after the last allowed
    attempt it is closed as unreachable. Reached: the answers are stored and the task is done; a wish to
    learn a skill also counts as a training need."""
    _require_followup_staff(actor, followup)
    followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
    if followup.status != FollowUp.Status.OPEN:
        raise InvalidTransition("该回访任务已经结束")
    notes = (notes or "").strip()
    if len(notes) > 1000:
        raise DomainError("备注不超过1000字", field="notes")
    today = timezone.localdate()
    old = followup.status
    followup.attempts += 1
    followup.reached = reached
    followup.notes = notes
    if not reached:
        if followup.attempts >= settings.OUTREACH_FOLLOWUP_MAX_ATTEMPTS:
            followup.status = FollowUp.Status.UNREACHABLE
            followup.done_at, followup.done_by = timezone.now(), actor
        else:
            followup.due_on = today + dt.timedelta(days=settings.OUTREACH_FOLLOWUP_RETRY_DAYS)
        data: dict[str, Any] = {"attempt": followup.attempts, "notes": notes}
    else:
        errors = {}
        if outcome not in FollowUp.Outcome.values:
            errors["outcome"] = "请选择回访结果"
        if satisfaction is None or isinstance(satisfaction, bool) or not 1 <= int(satisfaction) <= 5:
            errors["satisfaction"] = "请选择满意度（1–5分）"
        if wage_paid_in_full is None:
            errors["wage_paid_in_full"] = "请选择工钱是否足额到手"
        if wants_training and training_trade is None:
            errors["training_trade"] = "请选择想学的技能"
        if errors:
            field, message = next(iter(errors.items()))
            raise DomainError(message, field=field)
        followup.status = FollowUp.Status.DONE
        followup.outcome, followup.satisfaction = outcome, int(satisfaction)
        followup.wage_paid_in_full, followup.needs_help = wage_paid_in_full, bool(needs_help)
        followup.wants_training = bool(wants_training)
        followup.training_trade = training_trade if wants_training else None
        followup.done_at, followup.done_by = timezone.now(), actor
        data = {
            "attempt": followup.attempts,
            "outcome": outcome,
            "satisfaction": int(satisfaction),
            "wage_paid_in_full": wage_paid_in_full,
            "needs_help": bool(needs_help),
            "training_trade": training_trade.pk if wants_training and training_trade else None,
            "notes": notes,
        }
        if wants_training and training_trade is not None:
            _need_add(worker=followup.worker, trade=training_trade, source=TrainingNeed.Source.FOLLOWUP)
    followup.save()
    FollowUpCall.objects.create(
        followup=followup, actor=actor, reached=reached, from_status=old, to_status=followup.status, data=data
    )
    return followup


# ---------------------------------------------------------------------------------------- trainings


def _enrollment_event(enrollment: Enrollment, *, actor, old: str, new: str, **data) -> None:
    EnrollmentEvent.objects.create(
        enrollment=enrollment,
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=old,
        to_status=new,
        data=data,
    )


@transaction.atomic
def training_signup(*, course: Course, worker: User) -> Enrollment:
    """报名: one live sign-up per worker and course, and never more sign-ups than seats — the seat is taken
    by a guarded UPDATE, so concurrent sign-ups for the last seat cannot both win."""
    if not worker.is_active or worker.role != User.Role.SEEKER:
        raise NotAllowed("只有求职者可以报名培训")
    course = Course.objects.get(pk=course.pk)
    if course.status != Course.Status.OPEN or not course.is_published:
        raise InvalidTransition("该课程不接受报名", code="closed")
    if course.starts_on < timezone.localdate():
        raise InvalidTransition("课程已开课，不能再报名", code="started")
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(course=course, worker=worker)
    except IntegrityError as exc:
        raise Conflict("您已报名该课程", code="duplicate") from exc
    taken = Course.objects.filter(pk=course.pk, status=Course.Status.OPEN, seats_left__gt=0).update(
        seats_left=F("seats_left") - 1
    )
    if taken != 1:
        raise Conflict("名额已满", code="full")  # the atomic block takes the new sign-up back
    _enrollment_event(enrollment, actor=worker, old="", new=enrollment.status)
    message_queue(
        event_key=f"outreach_signup:{enrollment.pk}",
        template="outreach_training_signup",
        params={
            "course": course.title,
            "start": f"{course.starts_on:%m月%d日}",
            "place": course.place,
        },
        recipient=worker,
    )
    return enrollment


@transaction.atomic
def training_cancel(*, enrollment: Enrollment, actor: User) -> Enrollment:
    """The worker cancels their own sign-up before the course starts; the seat goes back."""
    enrollment = Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)
    if enrollment.worker_id != actor.pk:
        raise NotAllowed("只能取消自己的报名")
    if enrollment.status != Enrollment.Status.SIGNED_UP:
        raise InvalidTransition("该报名不能取消")
    if enrollment.course.starts_on <= timezone.localdate():
        raise InvalidTransition("课程已开课，不能取消，如有困难请联系网点")
    enrollment.status, enrollment.cancelled_at = Enrollment.Status.CANCELLED, timezone.now()
    enrollment.save(update_fields=["status", "cancelled_at"])
    Course.objects.filter(pk=enrollment.course_id, seats_left__lt=F("seats")).update(
        seats_left=F("seats_left") + 1
    )
    _enrollment_event(enrollment, actor=actor, old=Enrollment.Status.SIGNED_UP, new=enrollment.status)
    return enrollment


def _require_course_staff(actor: User, course: Course) -> None:
    if not (actor.is_active and actor.is_staff and actor.has_perm("outreach.change_enrollment")):
        raise NotAllowed("只有网点工作人员可以管理培训")
    if not object_visible_to(actor, course):
        raise NotAllowed("只能管理本网点的培训")


@transaction.atomic
def attendance_record(*, enrollment: Enrollment, actor: User, attended: bool) -> Enrollment:
    """Staff mark a sign-up as present or absent once the course has begun (a mistake can be corrected
    until the certificate is issued)."""
    enrollment = Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)
    _require_course_staff(actor, enrollment.course)
    allowed = (Enrollment.Status.SIGNED_UP, Enrollment.Status.ATTENDED, Enrollment.Status.ABSENT)
    if enrollment.status not in allowed:
        raise InvalidTransition("该报名不能登记出勤")
    if enrollment.course.starts_on > timezone.localdate():
        raise InvalidTransition("课程还没开课，不能登记出勤")
    new = Enrollment.Status.ATTENDED if attended else Enrollment.Status.ABSENT
    old = enrollment.status
    if old != new:
        enrollment.status = new
        enrollment.save(update_fields=["status"])
        _enrollment_event(enrollment, actor=actor, old=old, new=new)
    return enrollment


def _certificate_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone
    return "PX" + "".join(secrets.choice(alphabet) for _ in range(10))


@transaction.atomic
def certificate_issue(*, enrollment: Enrollment, actor: User) -> Enrollment:
    """结业: an attended sign-up gets a certificate with a verification code."""
    enrollment = Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)
    _require_course_staff(actor, enrollment.course)
    if enrollment.status != Enrollment.Status.ATTENDED:
        raise InvalidTransition("只有到课的学员可以结业发证")
    if enrollment.course.ends_on > timezone.localdate():
        raise InvalidTransition("课程结束后才能发结业证书")
    for _ in range(5):
        code = _certificate_code()
        if not Enrollment.objects.filter(certificate_code=code).exists():
            break
    enrollment.status = Enrollment.Status.COMPLETED
    enrollment.certificate_code, enrollment.certificate_issued_at = code, timezone.now()
    enrollment.save(update_fields=["status", "certificate_code", "certificate_issued_at"])
    _enrollment_event(
        enrollment, actor=actor, old=Enrollment.Status.ATTENDED, new=enrollment.status, code=code
    )
    message_queue(
        event_key=f"outreach_certificate:{enrollment.pk}",
        template="outreach_training_certificate",
        params={"course": enrollment.course.title, "code": code},
        recipient=enrollment.worker,
    )
    return enrollment


@transaction.atomic
def course_save(*, course: Course, actor: User) -> Course:
    """Create or edit a course (the admin form calls this). Changing the seats moves ``seats_left`` by the
    same amount in one guarded UPDATE, so seats already taken can never be given away twice."""
    if not (
        actor.is_staff and actor.has_perm("outreach.change_course" if course.pk else "outreach.add_course")
    ):
        raise NotAllowed("没有管理培训课程的权限")
    if course.ends_on < course.starts_on:
        raise DomainError("结课日期不能早于开课日期", field="ends_on")
    if course.pk is None:
        course.seats_left = course.seats
        course.created_by = actor
        course.save()
        return course
    old = Course.objects.select_for_update().get(pk=course.pk)
    delta = course.seats - old.seats
    fields = [f.name for f in Course._meta.concrete_fields if f.name not in ("id", "seats", "seats_left")]
    fields = [f for f in fields if f not in ("created_by", "created_at")]
    course.save(update_fields=fields)
    if delta:
        changed = Course.objects.filter(pk=course.pk, seats_left__gte=-delta).update(
            seats=course.seats, seats_left=F("seats_left") + delta
        )
        if changed != 1:
            raise Conflict(f"已有{old.seats - old.seats_left}人报名，名额不能少于报名人数", field="seats")
    course.refresh_from_db()
    return course


# ------------------------------------------------------------------------------------ training needs


def _need_add(*, worker: User, trade: Trade, source: str) -> None:
    TrainingNeed.objects.get_or_create(
        worker=worker,
        trade=trade,
        defaults={"source": source, "service_point_id": worker.service_point_id},
    )


@transaction.atomic
def training_needs_set(*, worker: User, trades: list[Trade]) -> list[TrainingNeed]:
    """培训需求调查: the worker's full list of skills they want to learn (up to 5)."""
    if worker.role != User.Role.SEEKER:
        raise NotAllowed("只有求职者可以填写培训需求")
    if len(trades) > 5:
        raise DomainError("最多选5项", field="trades")
    if any(not t.is_active for t in trades):
        raise DomainError("请选择有效的技能", field="trades")
    wanted = {t.pk for t in trades}
    TrainingNeed.objects.filter(worker=worker).exclude(trade_id__in=wanted).delete()
    for trade in trades:
        _need_add(worker=worker, trade=trade, source=TrainingNeed.Source.SURVEY)
    return list(TrainingNeed.objects.filter(worker=worker).select_related("trade"))
