"""Outreach reads: follow-up queues scoped to the staff member's service points, courses, sign-ups,
articles, and the figures the dashboard shows (:func:`followup_figures`, :func:`training_needs_figures`)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from accounts.models import ServicePoint, User, WorkerProfile
from core.scoping import objects_visible_to

from .models import Article, Course, Enrollment, FollowUp, TrainingNeed

# ---------------------------------------------------------------------------------------- follow-ups


def followups_visible_to(*, user: User) -> QuerySet[FollowUp]:
    """The follow-ups a staff member works on: their point's (a street market: its stations' too); district
    staff see all, including workers registered at no point."""
    return objects_visible_to(user, FollowUp.objects.all())  # core.scoping


def overdue_before() -> dt.date:
    """An open task whose first due date is before this day is overdue."""
    return timezone.localdate() - dt.timedelta(days=settings.OUTREACH_FOLLOWUP_OVERDUE_DAYS)


def followup_queue(*, user: User, which: str = "due") -> QuerySet[FollowUp]:
    """``due``: open and due today or earlier; ``overdue``: open past the overdue limit; ``upcoming``: open,
    not yet due; ``done``: finished (reached or given up)."""
    qs = followups_visible_to(user=user).select_related(
        "worker", "order__post", "service_point", "order__employer"
    )
    today = timezone.localdate()
    if which == "overdue":
        return qs.filter(status=FollowUp.Status.OPEN, first_due_on__lt=overdue_before()).order_by(
            "first_due_on", "pk"
        )
    if which == "upcoming":
        return qs.filter(status=FollowUp.Status.OPEN, due_on__gt=today).order_by("due_on", "pk")
    if which == "done":
        return qs.exclude(status=FollowUp.Status.OPEN).order_by("-done_at", "-pk")
    return qs.filter(status=FollowUp.Status.OPEN, due_on__lte=today).order_by("due_on", "pk")


def followup_for_staff(*, user: User, pk: int) -> FollowUp:
    """One follow-up the staff member may see; others raise DoesNotExist (→ 404)."""
    return (
        followups_visible_to(user=user).select_related("worker", "order__post", "order__employer").get(pk=pk)
    )


def followups_due_count(*, user: User) -> int:
    return (
        followups_visible_to(user=user)
        .filter(status=FollowUp.Status.OPEN, due_on__lte=timezone.localdate())
        .count()
    )


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] as whole local days."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return lo, hi


def followup_figures(*, start: dt.date, end: dt.date, service_point: ServicePoint | None = None) -> dict:
    """Dashboard: follow-ups created in [start, end] (whole days) and what the calls found.

    ``reach_rate`` = tasks done ÷ tasks finished (done + given up); ``satisfaction_avg`` over reached calls;
    ``paid_in_full_share`` = share of reached calls whose worker got the full wage. Shares are ``None`` when
    there is nothing to divide."""
    lo, hi = _day_bounds(start, end)
    qs = FollowUp.objects.filter(created_at__gte=lo, created_at__lt=hi)
    if service_point is not None:
        qs = qs.filter(service_point=service_point)
    S = FollowUp.Status
    agg = qs.aggregate(
        created=Count("pk"),
        done=Count("pk", filter=Q(status=S.DONE)),
        unreachable=Count("pk", filter=Q(status=S.UNREACHABLE)),
        open=Count("pk", filter=Q(status=S.OPEN)),
        overdue=Count("pk", filter=Q(status=S.OPEN, first_due_on__lt=overdue_before())),
        satisfaction_avg=Avg("satisfaction", filter=Q(status=S.DONE)),
        paid_full=Count("pk", filter=Q(status=S.DONE, wage_paid_in_full=True)),
        needs_help=Count("pk", filter=Q(status=S.DONE, needs_help=True)),
    )
    finished = agg["done"] + agg["unreachable"]
    wants = (
        qs.filter(status=S.DONE, wants_training=True, training_trade__isnull=False)
        .values("training_trade__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "training_trade__name")
    )
    avg = agg["satisfaction_avg"]
    return {
        "created": agg["created"],
        "done": agg["done"],
        "unreachable": agg["unreachable"],
        "open": agg["open"],
        "overdue": agg["overdue"],
        "reach_rate": round(agg["done"] / finished, 3) if finished else None,
        "satisfaction_avg": round(float(avg), 2) if avg is not None else None,
        "paid_in_full_share": round(agg["paid_full"] / agg["done"], 3) if agg["done"] else None,
        "needs_help": agg["needs_help"],
        "wants_training": [{"trade": row["training_trade__name"], "count": row["count"]} for row in wants],
    }


# ----------------------------------------------------------------------------------------- trainings


def courses_open() -> QuerySet[Course]:
    """Published courses that have not started, soonest first (full ones too: they show 已满)."""
    return (
        Course.objects.filter(
            status=Course.Status.OPEN, is_published=True, starts_on__gte=timezone.localdate()
        )
        .select_related("trade", "service_point")
        .order_by("starts_on", "pk")
    )


def courses_open_for_signup(*, worker: User) -> QuerySet[Course]:
    """Courses this worker can still sign up for (seats left, not already signed up), the trades they want
    first, then the soonest (the kiosk offers the first few)."""
    from django.db.models import Case, IntegerField, Value, When

    wanted = WorkerProfile.wanted_trades.through.objects.filter(workerprofile__user=worker).values("trade_id")
    live = Enrollment.objects.filter(worker=worker).exclude(status=Enrollment.Status.CANCELLED)
    return (
        courses_open()
        .filter(seats_left__gt=0)
        .exclude(pk__in=live.values("course_id"))
        .annotate(
            wanted=Case(
                When(trade_id__in=wanted, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("wanted", "starts_on", "pk")
    )


def course_public(*, pk: int) -> Course:
    return Course.objects.filter(is_published=True).select_related("trade", "service_point").get(pk=pk)


def enrollments_for_worker(*, user: User) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(worker=user).select_related("course__trade", "course__service_point")


def enrollment_for_worker(*, user: User, pk: int) -> Enrollment:
    return enrollments_for_worker(user=user).get(pk=pk)


def live_enrollment(*, user: User, course: Course) -> Enrollment | None:
    if not user.is_authenticated:
        return None
    return (
        Enrollment.objects.filter(worker=user, course=course)
        .exclude(status=Enrollment.Status.CANCELLED)
        .first()
    )


def courses_for_staff(*, user: User) -> QuerySet[Course]:
    return (
        objects_visible_to(user, Course.objects.all())
        .select_related("trade", "service_point")
        .annotate(live=Count("enrollments", filter=~Q(enrollments__status=Enrollment.Status.CANCELLED)))
        .order_by("-starts_on", "-pk")
    )


def course_for_staff(*, user: User, pk: int) -> Course:
    return courses_for_staff(user=user).get(pk=pk)


def certificate_by_code(*, code: str) -> Enrollment:
    return Enrollment.objects.select_related("course", "worker").get(
        certificate_code=(code or "").strip().upper(), status=Enrollment.Status.COMPLETED
    )


def training_needs_figures(
    *, start: dt.date, end: dt.date, service_point: ServicePoint | None = None
) -> dict:
    """Dashboard: skills wanted (needs registered in [start, end], whole days), and the courses starting in
    that window with their seats, live sign-ups and attendance."""
    lo, hi = _day_bounds(start, end)
    needs = TrainingNeed.objects.filter(created_at__gte=lo, created_at__lt=hi)
    courses = Course.objects.filter(starts_on__gte=start, starts_on__lte=end).exclude(
        status=Course.Status.CANCELLED
    )
    if service_point is not None:
        needs = needs.filter(service_point=service_point)
        courses = courses.filter(service_point=service_point)
    wanted = needs.values("trade__name").annotate(count=Count("pk")).order_by("-count", "trade__name")
    E = Enrollment.Status
    enrollments = Enrollment.objects.filter(course__in=courses)
    agg = enrollments.aggregate(
        signups=Count("pk", filter=~Q(status=E.CANCELLED)),
        attended=Count("pk", filter=Q(status__in=(E.ATTENDED, E.COMPLETED))),
        absent=Count("pk", filter=Q(status=E.ABSENT)),
        completed=Count("pk", filter=Q(status=E.COMPLETED)),
    )
    seats = sum(courses.values_list("seats", flat=True))
    marked = agg["attended"] + agg["absent"]
    return {
        "skills_wanted": [{"trade": row["trade__name"], "count": row["count"]} for row in wanted],
        "needs": sum(row["count"] for row in wanted),
        "courses": courses.count(),
        "seats": seats,
        "signups": agg["signups"],
        "attended": agg["attended"],
        "absent": agg["absent"],
        "certificates": agg["completed"],
        "attendance_rate": round(agg["attended"] / marked, 3) if marked else None,
    }


def training_needs_of(*, user: User) -> QuerySet[TrainingNeed]:
    return TrainingNeed.objects.filter(worker=user).select_related("trade")


# ------------------------------------------------------------------------------------------ articles


def articles_published(*, category: str = "") -> QuerySet[Article]:
    qs = Article.objects.filter(is_published=True)
    if category:
        qs = qs.filter(category=category)
    return qs


def article_published(*, pk: int) -> Article:
    return Article.objects.filter(is_published=True).get(pk=pk)
