"""Fixtures for the notifications tests: named users, a fake Aliyun gateway, the aliyun backend on it."""

from __future__ import annotations

import pytest

from notifications.testing import FakeSmsGateway


@pytest.fixture(autouse=True)
def promo_templates(monkeypatch):
    """Marketing templates of this suite's own (the real ones belong to matching and the hall)."""
    from notifications.templates_registry import TEMPLATES, MessageTemplate

    for template in (
        MessageTemplate(
            "jobs_digest", "SMS_T_DIGEST", "为您推荐{count}个新岗位，如“{post}”。", marketing=True
        ),
        MessageTemplate(
            "training_news",
            "SMS_T_TRAINING",
            "{course}开课了，免费报名。",
            marketing=True,
            category="activity",
        ),
    ):
        monkeypatch.setitem(TEMPLATES, template.key, template)


@pytest.fixture
def gateway():
    gw = FakeSmsGateway().start()
    yield gw
    gw.stop()


@pytest.fixture
def aliyun(settings, gateway):
    """SMS through the aliyun backend to the fake gateway; retries come back at once in tests."""
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_HTTP_URL = gateway.url
    settings.SMS_ACCESS_KEY_ID = gateway.key_id
    settings.SMS_ACCESS_KEY_SECRET = gateway.secret
    settings.SMS_RATE_PER_SECOND = 10_000
    settings.SMS_RATE_REDIS_URL = None
    settings.SMS_HTTP_TIMEOUT = 2.0
    settings.NOTIFY_SEND_THREADS = 1  # threads have their own connections: they would not see test rows
    return gateway


@pytest.fixture
def consenting(alice):
    from notifications.services import preferences_update

    preferences_update(user=alice, marketing_consent=True)
    return alice


# Copied from tests/jobs/conftest.py: an employer, a post and a verified worker, for order messages.
@pytest.fixture
def boss(db):
    from tests.factories import UserFactory

    return UserFactory(phone="13700000001", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    from tests.factories import EmployerFactory

    return EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")


@pytest.fixture
def street(db):
    from accounts.models import Area
    from tests.factories import AreaFactory

    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    return AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)


@pytest.fixture
def post(employer, street):
    from tests.factories import PostFactory, TradeFactory

    trade = TradeFactory(name="小工", category="construction", risk_class=3)
    return PostFactory(employer=employer, trade=trade, area=street, district=street.parent, slots=2)


@pytest.fixture
def worker(db):
    from tests.factories import verified_seeker

    return verified_seeker(phone="13600000001", name="赵洪亮")
