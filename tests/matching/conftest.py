"""Matching fixtures: a small city (district → town → village), trades, an employer, and seekers with
profiles placed on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Area, WorkerProfile
from jobs.models import WorkerStats
from tests.factories import (
    AreaFactory,
    EmployerFactory,
    PostFactory,
    TradeFactory,
    UserFactory,
    verified_seeker,
)

CENTRE = (28.90, 120.03)


@pytest.fixture
def district(db):
    return AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT, lat=28.9, lng=120.0)


@pytest.fixture
def town(district):
    return AreaFactory(name="西城街道", code="350186001000", level=Area.Level.STREET, parent=district)


@pytest.fixture
def village(town):
    return AreaFactory(name="中山社区", code="350186001001", level=Area.Level.VILLAGE, parent=town)


@pytest.fixture
def other_town(district):
    return AreaFactory(name="白沙镇", code="350186101000", level=Area.Level.STREET, parent=district)


@pytest.fixture
def trade(db):
    return TradeFactory(name="小工", category="construction", risk_class=2)


@pytest.fixture
def cleaning(db):
    return TradeFactory(name="保洁", category="housekeeping", risk_class=1)


@pytest.fixture
def boss(db):
    return UserFactory(phone="13700000001", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    return EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")


@pytest.fixture
def rival(db):
    """Another employer, with its own owner (charlie's side)."""
    owner = UserFactory(phone="13700000009", name="李老板", role="employer")
    return EmployerFactory(created_by=owner, name="另一家公司")


def next_weekday(days: int = 2, hour: int = 8) -> dt.datetime:
    """A local weekday ``days`` or more from now at ``hour``:00."""
    day = timezone.localdate() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def make_post(employer, trade, area, **kw):
    start = kw.pop("starts_at", None) or next_weekday()
    kw.setdefault("district", area.parent if area.level == Area.Level.VILLAGE else area)
    if area.level == Area.Level.VILLAGE:
        kw["district"] = area.parent.parent
    elif area.level == Area.Level.STREET:
        kw["district"] = area.parent
    return PostFactory(
        employer=employer,
        trade=trade,
        area=area,
        starts_at=start,
        ends_at=kw.pop("ends_at", None) or start + dt.timedelta(hours=9),
        **{"lat": CENTRE[0], "lng": CENTRE[1], **kw},
    )


def make_seeker(phone: str, name: str, *, trades, area, lat=None, lng=None, verified=True, **profile):
    user = verified_seeker(phone=phone, name=name) if verified else UserFactory(phone=phone, name=name)
    WorkerProfile.objects.filter(user=user).delete()
    prof = WorkerProfile.objects.create(
        user=user,
        area=area,
        lat=CENTRE[0] if lat is None else lat,
        lng=CENTRE[1] if lng is None else lng,
        expected_pay_fen=profile.pop("expected_pay_fen", 20000),
        expected_pay_unit=profile.pop("expected_pay_unit", "day"),
        **profile,
    )
    prof.wanted_trades.set(trades)
    return user


def set_stats(user, *, reliability=100, stars=None, completed=0):
    WorkerStats.objects.update_or_create(
        user=user,
        defaults={
            "reliability": reliability,
            "completed": completed,
            "rating_sum": int(stars * 10) if stars else 0,
            "rating_count": 10 if stars else 0,
        },
    )


def consent(user):
    from notifications.services import preferences_update

    preferences_update(user=user, marketing_consent=True)
