import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.factories import (
    AreaFactory,
    EmployerFactory,
    PostFactory,
    TradeFactory,
    UserFactory,
    verified_seeker,
)


@pytest.fixture
def boss(db):
    return UserFactory(phone="13700000001", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    return EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")


@pytest.fixture
def district(db):
    from accounts.models import Area

    return AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)


@pytest.fixture
def street(district):
    return AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)


@pytest.fixture
def trade(db):
    return TradeFactory(name="小工", category="construction", risk_class=3)


@pytest.fixture
def worker(db):
    return verified_seeker(phone="13600000001", name="赵洪亮")


@pytest.fixture
def worker2(db):
    return verified_seeker(phone="13600000002", name="钱师傅")


@pytest.fixture
def post(employer, trade, street):
    return PostFactory(employer=employer, trade=trade, area=street, district=street.parent, slots=2)


@pytest.fixture
def post_data(trade, street):
    start = timezone.now() + dt.timedelta(days=1)
    return {
        "trade": trade, "title": "工地招小工2名", "description": "搬砖、清理建筑垃圾", "pay_fen": 25000,
        "pay_unit": "day", "quantity": 1, "slots": 2, "area": street, "address": "工业区8号", "lat": 28.90,
        "lng": 120.03, "starts_at": start, "ends_at": start + dt.timedelta(hours=9), "mode": "grab",
        "insurance_required": False, "contact_name": "陈老板", "contact_phone": "+86 13700001111",
    }  # fmt: skip


@pytest.fixture
def hall_staff(staff):
    staff.user_permissions.add(Permission.objects.get(codename="post_on_behalf"))
    return type(staff).objects.get(pk=staff.pk)
