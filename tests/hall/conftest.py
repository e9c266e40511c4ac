"""Hall fixtures: a district with two streets, the district market and two street stations, their staff,
trades, seekers and posts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Area, ServicePoint
from tests import factories


@pytest.fixture(autouse=True)
def _no_local_screen_copies(settings):
    """Tests see the screen's shared cache only and an uncached dashboard; both have their own tests."""
    from hall import views

    settings.HALL_SCREEN_LOCAL_SECONDS = 0
    settings.HALL_DASHBOARD_CACHE_SECONDS = 0
    views.SCREENS.clear_local()
    yield
    views.SCREENS.clear_local()


@pytest.fixture
def district(db):
    return factories.AreaFactory(
        name="青溪区", code="350186000000", level=Area.Level.DISTRICT, lat=29.0, lng=120.0
    )


@pytest.fixture
def east(district):
    return factories.AreaFactory(
        name="东城街道", code="350186001000", level=Area.Level.STREET, parent=district
    )


@pytest.fixture
def west(district):
    return factories.AreaFactory(
        name="西城街道", code="350186002000", level=Area.Level.STREET, parent=district
    )


@pytest.fixture
def other_district(db):
    return factories.AreaFactory(name="南山县", code="350187000000", level=Area.Level.DISTRICT)


@pytest.fixture
def market(district):
    return ServicePoint.objects.create(
        name="青溪区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=district, lat=29.0, lng=120.0
    )


@pytest.fixture
def east_point(market, east):
    return ServicePoint.objects.create(
        name="东城零工驿站",
        kind=ServicePoint.Kind.STREET_MARKET,
        area=east,
        parent=market,
        lat=29.0,
        lng=120.0,
        phone="0571-8888",
    )


@pytest.fixture
def west_point(market, west):
    return ServicePoint.objects.create(
        name="西城零工驿站",
        kind=ServicePoint.Kind.STREET_MARKET,
        area=west,
        parent=market,
        lat=29.2,
        lng=120.2,
    )


def hall_staff(phone: str, name: str, point, *codenames: str):
    user = factories.UserFactory(phone=phone, name=name, role="staff", is_staff=True, service_point=point)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["hall", "accounts"], codename__in=codenames)
    )
    return type(user).objects.get(pk=user.pk)


DASH = ("view_dashboard", "export_dashboard")


@pytest.fixture
def east_staff(east_point):
    return hall_staff("13900000101", "东城小周", east_point, *DASH)


@pytest.fixture
def west_staff(west_point):
    return hall_staff("13900000102", "西城小吴", west_point, *DASH)


@pytest.fixture
def district_staff(market):
    return hall_staff("13900000103", "区市场老陈", market, *DASH)


@pytest.fixture
def mason(db):
    return factories.TradeFactory(name="瓦工", category="construction", risk_class=3)


@pytest.fixture
def cleaner(db):
    return factories.TradeFactory(name="保洁", category="housekeeping", risk_class=2)


@pytest.fixture
def boss(db):
    return factories.UserFactory(phone="13700000001", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    return factories.EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")


def seeker(phone: str, name: str, *, area=None, point=None, trades=(), verified=True):
    user = (factories.verified_seeker if verified else factories.SeekerFactory)(phone=phone, name=name)
    if point is not None:
        user.service_point = point
        user.save(update_fields=["service_point"])
    profile = user.worker_profile
    profile.area = area
    profile.save()
    profile.wanted_trades.set(trades)
    return type(user).objects.get(pk=user.pk)
