"""Fixtures for outreach: a small "1+17+N" network (district market → street market → stations A and B),
staff at each level, workers registered at each station, completed orders, and courses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import ServicePoint, User
from jobs.models import Claim, Order
from outreach.models import Course
from tests.factories import (
    AreaFactory,
    PostFactory,
    ServicePointFactory,
    TradeFactory,
    UserFactory,
    verified_seeker,
)

OUTREACH_PERMS = [
    "view_followup",
    "change_followup",
    "view_course",
    "add_course",
    "change_course",
    "view_enrollment",
    "change_enrollment",
]


@pytest.fixture
def points(db):
    area = AreaFactory(name="青溪区", code="350186000000", level="district")
    district = ServicePointFactory(name="青溪区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=area)
    street = ServicePointFactory(
        name="西城街道零工市场", kind=ServicePoint.Kind.STREET_MARKET, area=area, parent=district
    )
    a = ServicePointFactory(
        name="东岭村零工驿站", kind=ServicePoint.Kind.VILLAGE_STATION, area=area, parent=street
    )
    b = ServicePointFactory(
        name="南坑村零工驿站", kind=ServicePoint.Kind.VILLAGE_STATION, area=area, parent=street
    )
    other_street = ServicePointFactory(
        name="北岸镇零工市场", kind=ServicePoint.Kind.STREET_MARKET, area=area, parent=district
    )
    return {"district": district, "street": street, "a": a, "b": b, "other_street": other_street}


def make_staff(phone: str, name: str, point: ServicePoint, extra: tuple[str, ...] = ()) -> User:
    user = UserFactory(phone=phone, name=name, role=User.Role.STAFF, is_staff=True, service_point=point)
    user.user_permissions.set(Permission.objects.filter(codename__in=[*OUTREACH_PERMS, *extra]))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def staff_a(points):
    return make_staff("13900000101", "周站长", points["a"])


@pytest.fixture
def staff_b(points):
    return make_staff("13900000102", "吴站长", points["b"])


@pytest.fixture
def street_staff(points):
    return make_staff("13900000103", "郑主任", points["street"])


@pytest.fixture
def other_street_staff(points):
    return make_staff("13900000105", "冯主任", points["other_street"])


@pytest.fixture
def district_staff(points):
    return make_staff("13900000104", "王科长", points["district"])


@pytest.fixture
def trade(db):
    return TradeFactory(name="保洁", category="services", risk_class=1)


@pytest.fixture
def alice_worker(points):
    """Registered at station A."""
    user = verified_seeker(phone="13800000011", name="李爱丽")
    user.service_point = points["a"]
    user.save(update_fields=["service_point"])
    return user


@pytest.fixture
def bob_worker(points):
    """Registered at station B."""
    user = verified_seeker(phone="13800000012", name="王博")
    user.service_point = points["b"]
    user.save(update_fields=["service_point"])
    return user


def completed_order(worker: User, *, trade=None, completed_at: dt.datetime | None = None) -> Order:
    post = PostFactory(trade=trade or TradeFactory(name="小工"), slots=1)
    claim = Claim.objects.create(post=post, worker=worker, status=Claim.Status.CONFIRMED)
    done = completed_at or timezone.now() - dt.timedelta(days=1)
    return Order.objects.create(
        claim=claim,
        post=post,
        worker=worker,
        employer=post.employer,
        status=Order.Status.COMPLETED,
        starts_at=done - dt.timedelta(hours=8),
        ends_at=done,
        completed_at=done,
    )


def make_course(
    point: ServicePoint, *, trade, seats: int = 10, starts_in: int = 7, creator=None, **extra
) -> Course:
    start = timezone.localdate() + dt.timedelta(days=starts_in)
    creator = creator or UserFactory(role=User.Role.STAFF, is_staff=True, service_point=point)
    fields = {
        "title": f"{trade.name}培训班",
        "trade": trade,
        "starts_on": start,
        "ends_on": start + dt.timedelta(days=2),
        "place": f"{point.name}二楼教室",
        "service_point": point,
        "seats": seats,
        "seats_left": seats,
        "created_by": creator,
    }
    fields.update(extra)
    return Course.objects.create(**fields)
