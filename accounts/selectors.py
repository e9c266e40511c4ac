"""Account reads."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import Certificate, Employer, EmployerMember, ServicePoint, User, WorkerProfile


def trade_model():
    """The trade catalogue (工种) a worker's profile names. It lives in jobs, above accounts, so it is reached
    through the profile's foreign key ("jobs.Trade", declared by name) and never imported."""
    return WorkerProfile._meta.get_field("wanted_trades").related_model


def service_points_visible_to(*, user: User) -> QuerySet[ServicePoint]:
    """The service points whose data a staff member works with: district staff (and superusers) see every
    point; anyone else at a point sees it and every point below it (a street/town market: itself and its
    village stations; a station: itself). Anyone else sees none."""
    if user.is_superuser:
        return ServicePoint.objects.all()
    point = user.service_point
    if not user.is_staff or point is None:
        return ServicePoint.objects.none()
    if point.kind == ServicePoint.Kind.DISTRICT_MARKET:
        return ServicePoint.objects.all()
    return ServicePoint.objects.filter(pk__in=_point_and_below(point.pk))


def _point_and_below(pk: int) -> list[int]:
    found, frontier = [pk], [pk]
    while frontier:  # three levels in the 1+17+N network; a cycle cannot loop (ids seen are skipped)
        frontier = [
            p
            for p in ServicePoint.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            if p not in found
        ]
        found += frontier
    return found


def sees_every_point(*, user: User) -> bool:
    point = user.service_point
    return user.is_superuser or (
        user.is_staff and point is not None and point.kind == ServicePoint.Kind.DISTRICT_MARKET
    )


def default_service_point() -> ServicePoint | None:
    """The point an object belongs to when nothing closer is known (an online self-registration, an
    employer who applied online): the district market at the top of the tree, which runs the online
    channel. Only staff who see every point see such rows."""
    return (
        ServicePoint.objects.filter(
            kind=ServicePoint.Kind.DISTRICT_MARKET, parent__isnull=True, is_active=True
        )
        .order_by("pk")
        .first()
    )


def employers_for_user(*, user: User) -> QuerySet[Employer]:
    # Filter through a subquery so the count covers every member, not just the one filtered on.
    return Employer.objects.filter(
        pk__in=EmployerMember.objects.filter(user=user).values("employer_id")
    ).annotate(member_count=Count("memberships"))


def employer_for_member(*, user: User, pk: int) -> Employer:
    """An employer the user belongs to; other users get DoesNotExist (→ 404)."""
    return Employer.objects.filter(memberships__user=user).get(pk=pk)


def certificates_for_user(*, user: User) -> QuerySet[Certificate]:
    return Certificate.objects.filter(user=user).select_related("cert_type")


def valid_certificate_exists(*, user: User, cert_type_id: int) -> bool:
    return Certificate.objects.filter(
        Q(user=user, cert_type_id=cert_type_id, status=Certificate.Status.APPROVED)
        & Q(expires_on__gte=timezone.localdate())
    ).exists()


def certificates_expiring(*, within_days: int = 30) -> QuerySet[Certificate]:
    today = timezone.localdate()
    return Certificate.objects.filter(
        status=Certificate.Status.APPROVED,
        expires_on__gte=today,
        expires_on__lte=today + dt.timedelta(days=within_days),
    )
