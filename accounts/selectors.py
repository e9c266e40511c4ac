"""Account reads."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import Certificate, Employer, EmployerMember, ServicePoint, User


def service_points_visible_to(*, user: User) -> QuerySet[ServicePoint]:
    """The service points whose data a staff member works with: district staff (and superusers) see every
    point; a street/town market's staff see their point and its village stations; a station's staff see
    their station. Anyone else sees none."""
    if user.is_superuser:
        return ServicePoint.objects.all()
    point = user.service_point
    if not user.is_staff or point is None:
        return ServicePoint.objects.none()
    if point.kind == ServicePoint.Kind.DISTRICT_MARKET:
        return ServicePoint.objects.all()
    return ServicePoint.objects.filter(Q(pk=point.pk) | Q(parent_id=point.pk))


def sees_every_point(*, user: User) -> bool:
    point = user.service_point
    return user.is_superuser or (
        user.is_staff and point is not None and point.kind == ServicePoint.Kind.DISTRICT_MARKET
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
