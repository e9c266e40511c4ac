"""Dispute reads: whose cases a person may open (parties, the assigned mediator, staff of the point), the
timeline each of them sees, deadline flags, and the dashboard's figures."""

from __future__ import annotations

import datetime as dt
import statistics

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import EmployerMember, User
from core.scoping import objects_visible_to

from . import services
from .models import Agreement, Case, CaseEvent, Recovery


def cases_for_party(*, user: User) -> QuerySet[Case]:
    """The cases where the user is the worker or belongs to the employer (or filed it)."""
    employers = EmployerMember.objects.filter(user=user).values("employer_id")
    return (
        Case.objects.filter(Q(worker=user) | Q(employer_id__in=employers) | Q(filed_by=user))
        .select_related("post", "employer", "mediator")
        .order_by("-filed_at", "-pk")
    )


def case_for_party(*, pk: int, user: User) -> Case:
    """A case the user is a party to; anyone else gets DoesNotExist (→ 404)."""
    case = cases_for_party(user=user).get(pk=pk)
    if services.party_side(case, user) is None:  # filed it but no longer a party (left the employer)
        raise Case.DoesNotExist
    return case


def cases_for_mediator(*, user: User) -> QuerySet[Case]:
    """A mediator's cases, the open ones first and the nearest deadline first."""
    if user.role != User.Role.MEDIATOR:
        return Case.objects.none()
    return (
        Case.objects.filter(mediator=user)
        .select_related("post", "employer", "worker")
        .order_by("closed_at", "deadline_at", "pk")
    )


def cases_for_staff(*, user: User) -> QuerySet[Case]:
    """Cases of the staff member's service point and the points under it (core.scoping; every case for
    district staff, who also hold the few cases tied to no point)."""
    if not services.is_case_staff(user):
        return Case.objects.none()
    cases = Case.objects.select_related("post", "employer", "mediator", "worker")
    return objects_visible_to(user, cases).order_by("-filed_at", "-pk")


def case_for_desk(*, pk: int, user: User) -> Case:
    """The case page of the workspace: the assigned mediator, or staff who see its point."""
    if user.role == User.Role.MEDIATOR:
        return cases_for_mediator(user=user).get(pk=pk)
    return cases_for_staff(user=user).get(pk=pk)


def unassigned_count(*, user: User) -> int:
    return cases_for_staff(user=user).filter(status=Case.Status.FILED).count()


def mediators() -> QuerySet[User]:
    return User.objects.filter(role=User.Role.MEDIATOR, is_active=True).order_by("name", "pk")


def deadline_flag(case: Case, *, now: dt.datetime | None = None) -> str:
    """ "overdue", "near" (within the warning days) or "" for a case whose clock is running."""
    if case.status not in (Case.Status.ACCEPTED, Case.Status.MEDIATING) or case.deadline_at is None:
        return ""
    now = now or timezone.now()
    if case.deadline_at <= now:
        return "overdue"
    if case.deadline_at <= now + dt.timedelta(days=services.warning_days()):
        return "near"
    return ""


def timeline(*, case: Case, side: str | None) -> QuerySet[CaseEvent]:
    """The case's events. ``side`` is a party's side: then only what the parties may see (no internal rows,
    messages to the other side left out). ``None``: everything (mediator, staff)."""
    events = case.events.select_related("actor").order_by("created_at", "pk")
    if side is None:
        return events
    return events.filter(public=True).exclude(Q(kind="message") & ~Q(data__to__in=[side, "both"]))


def live_agreement(*, case: Case) -> Agreement | None:
    return (
        case.agreements.filter(status__in=(Agreement.Status.PROPOSED, Agreement.Status.SIGNED))
        .order_by("-created_at", "-pk")
        .first()
    )


def next_session(*, case: Case):
    return (
        case.sessions.filter(starts_at__gte=timezone.now() - dt.timedelta(hours=2))
        .order_by("starts_at")
        .first()
    )


def case_figures(*, start: dt.datetime, end: dt.datetime, service_point=None) -> dict:
    """Dashboard figures for cases filed in [start, end): counts by category and status, the median days
    from filing to the end of mediation, the share of ended cases that ended within their deadline, and the
    wages recovered (fen) by agreements and outside the platform, with the two apart. ``service_point``: that point and its children only."""
    cases = Case.objects.filter(filed_at__gte=start, filed_at__lt=end)
    if service_point is not None:
        cases = cases.filter(Q(service_point=service_point) | Q(service_point__parent=service_point))
    by_category = dict.fromkeys(Case.Category.values, 0)
    by_category.update(
        dict(cases.values_list("category").annotate(n=Count("pk")).values_list("category", "n"))
    )
    by_status = dict.fromkeys(Case.Status.values, 0)
    by_status.update(dict(cases.values_list("status").annotate(n=Count("pk")).values_list("status", "n")))
    ended = list(cases.filter(ended_at__isnull=False).values_list("filed_at", "ended_at", "deadline_at"))
    days = [(ended_at - filed_at).total_seconds() / 86400 for filed_at, ended_at, _ in ended]
    timed = [(ended_at, deadline) for _, ended_at, deadline in ended if deadline is not None]
    within = sum(1 for ended_at, deadline in timed if ended_at <= deadline)
    recovered = cases.aggregate(total=Sum("recovered_fen"))["total"] or 0
    offline = Recovery.objects.filter(case__in=cases).aggregate(total=Sum("amount_fen"))["total"] or 0
    return {
        "total": sum(by_category.values()),
        "by_category": by_category,
        "by_status": by_status,
        "category_labels": dict(Case.Category.choices),
        "status_labels": dict(Case.Status.choices),
        "ended": len(ended),
        "median_days_to_close": round(statistics.median(days), 1) if days else None,
        "closed_within_deadline_share": round(within / len(timed), 3) if timed else None,
        "wages_recovered_fen": recovered,
        # Where it came from: agreements settled through the platform, or paid outside it (线下追回).
        "wages_recovered_by_source": {"platform_fen": recovered - offline, "offline_fen": offline},
        "source_labels": {"platform_fen": "经平台调解协议", "offline_fen": "线下追回"},
        "workers_helped": cases.filter(recovered_fen__gt=0).values("worker").distinct().count(),
    }
