"""Account reads."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import Certificate, Employer, EmployerMember, RealName, User


def review_queue_counts() -> dict[str, int]:
    """Counts for the staff home: what waits for a decision."""
    return {
        "realnames": RealName.objects.filter(status=RealName.Status.PENDING).count(),
        "employers": Employer.objects.filter(status=Employer.Status.PENDING).count(),
        "certificates": Certificate.objects.filter(status=Certificate.Status.PENDING).count(),
        "assisted_unconfirmed": User.objects.filter(is_active=False, registered_by__isnull=False).count(),
    }


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
