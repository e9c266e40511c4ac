"""Insurance fixtures: an employer with money, a trade whose class needs cover (4: 6 yuan per order), a
published post, verified workers, reviewing staff, and the fake insurer server."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from jobs import services as jobs_services
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, UserFactory, verified_seeker

from .helpers import FUNDS, INSURER_KEY, PAY, FakeInsurer, check_in, grab, issue


@pytest.fixture
def boss(db):
    return UserFactory(phone="13700000001", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    return EmployerFactory(created_by=boss, name="马架龙建筑劳务公司", funds=FUNDS)


@pytest.fixture
def street(db):
    from accounts.models import Area

    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    return AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)


@pytest.fixture
def trade(db):
    return TradeFactory(name="架子工", category="construction", risk_class=4)


@pytest.fixture
def safe_trade(db):
    return TradeFactory(name="保洁", category="housekeeping", risk_class=1)


@pytest.fixture
def worker(db):
    return verified_seeker(phone="13600000001", name="赵洪亮")


@pytest.fixture
def worker2(db):
    return verified_seeker(phone="13600000002", name="钱师傅")


@pytest.fixture
def publish(employer, boss, trade, street):
    def publish(*, slots=2, trade_=None, insured=False, start_in=dt.timedelta(days=2), point=None):
        start = timezone.now() + start_in
        post = jobs_services.post_create(
            employer=employer, actor=boss, publish=True, trade=trade_ or trade, title="外墙脚手架搭设",
            description="搭设脚手架", pay_fen=PAY, pay_unit="day", quantity=1, slots=slots, area=street,
            address="工业区8号", lat=28.9, lng=120.03, starts_at=start, ends_at=start + dt.timedelta(hours=9),
            mode="grab", insurance_required=insured, contact_name="陈老板", contact_phone="13700001111",
        )  # fmt: skip
        if point is not None:
            type(post).objects.filter(pk=post.pk).update(service_point=point)
        return post

    return publish


@pytest.fixture
def post(publish):
    return publish()


@pytest.fixture
def order(post, worker):
    return grab(post, worker)


@pytest.fixture
def issued(order):
    issue(order)
    order.refresh_from_db()
    return order


@pytest.fixture
def working(issued, worker):
    """An insured order with the worker on site (cover running)."""
    check_in(issued, worker)
    issued.refresh_from_db()
    return issued


@pytest.fixture
def reviewer(staff):
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="insurance",
            codename__in=[
                "view_policy",
                "change_policy",
                "view_accidentclaim",
                "add_accidentclaim",
                "review_accidentclaim",
                "change_accidentclaim",
                "view_premiumrate",
                "change_premiumrate",
            ],
        )
    )
    return type(staff).objects.get(pk=staff.pk)


@pytest.fixture
def insurer(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeInsurer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeInsurer.mode, FakeInsurer.policies, FakeInsurer.cancelled, FakeInsurer.calls = "normal", {}, [], []
    FakeInsurer.claims, FakeInsurer.documents, FakeInsurer.statements = {}, {}, {}
    settings.INSURER_BACKEND = "http"
    settings.INSURER_URL = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    settings.INSURER_KEY = INSURER_KEY
    settings.INSURER_TIMEOUT = 2
    yield FakeInsurer
    server.shutdown()
    server.server_close()


@pytest.fixture
def clerk(db, service_point):
    """Hall staff without any insurance permission."""
    return UserFactory(
        phone="13900000008", name="吴办事", role="staff", is_staff=True, service_point=service_point
    )
