"""叮咚 end to end: a post opens, matching pushes it, and the seeker's phone (a browser subscribed at a
local fake push service) gets a Web Push that only it can decrypt, with the post's title, pay, place and
the page to open — with consent, outside quiet hours, and never to another person's phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from jobs import services as jobs_services
from jobs.models import Post
from notifications.models import Message
from notifications.push import subscription_save
from notifications.testing import FakePushService
from notifications.webpush import forget_cached_key
from tests.matching.conftest import consent, make_post, make_seeker, next_weekday

pytestmark = pytest.mark.django_db(transaction=True)

CHINA = dt.timezone(dt.timedelta(hours=8))
NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=CHINA)
NIGHT = dt.datetime(2026, 11, 23, 22, 30, tzinfo=CHINA)


@pytest.fixture
def push_service():
    forget_cached_key()
    service = FakePushService().start()
    yield service
    service.stop()
    forget_cached_key()


def subscribe(user, service):
    phone = service.browser()
    subscription_save(user=user, label="测试手机", **{"endpoint": phone.endpoint, "p256dh": phone.p256dh,
                                                    "auth": phone.auth})  # fmt: skip
    return phone


def publish(employer, boss, trade, area, **kw) -> Post:
    post = make_post(employer, trade, area, status=Post.Status.DRAFT, published_at=None, hold=False, **kw)
    return jobs_services.post_publish(post=post, actor=boss)


@time_machine.travel(NOON, tick=False)
def test_a_published_post_reaches_the_consenting_seekers_phone_decrypted(
    employer, boss, trade, town, push_service
):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    qian = make_seeker("13600000002", "钱师傅", trades=[trade], area=town)  # subscribed, no consent
    consent(zhao)
    zhao_phone, qian_phone = subscribe(zhao, push_service), subscribe(qian, push_service)

    post = publish(employer, boss, trade, town, starts_at=next_weekday(3), title="安装公司办公桌")

    [got] = push_service.messages_for(zhao_phone)
    assert got["title"] == "叮咚！新活：安装公司办公桌"
    assert "元/" in got["body"] and town.name in got["body"] and "开工" in got["body"]
    assert re.fullmatch(
        r"/r/[\w-]{11}", got["url"]
    )  # the short recommendation link: opens the post, marks it viewed
    assert got["grab"] is True
    assert push_service.messages_for(qian_phone) == []  # no consent, no push
    row = Message.objects.get(channel="webpush", recipient=zhao)
    assert row.status == Message.Status.SENT and row.marketing and row.template == "post_recommended_push"
    assert not Message.objects.filter(channel="webpush", recipient=qian).exists()
    [delivery] = push_service.received
    assert delivery["claims"]["aud"] == push_service.origin and delivery["claims"]["sub"].startswith(
        "mailto:"
    )
    assert delivery["headers"]["urgency"] == "high" and len(delivery["headers"]["topic"]) <= 32
    assert post.title.encode() not in str(delivery["headers"]).encode()  # only inside the encrypted body


@time_machine.travel(NIGHT, tick=False)
def test_at_night_the_push_waits_for_the_morning(employer, boss, trade, town, push_service):
    from notifications import webpush

    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    consent(zhao)
    phone = subscribe(zhao, push_service)
    publish(employer, boss, trade, town, starts_at=next_weekday(3))
    row = Message.objects.get(channel="webpush", recipient=zhao)
    assert row.status == Message.Status.PENDING and row.send_after is not None
    assert push_service.messages_for(phone) == []
    webpush.sweep()  # still night: nothing goes
    assert push_service.messages_for(phone) == []
    with time_machine.travel(row.send_after + dt.timedelta(minutes=1), tick=False):
        assert webpush.sweep()["push_due"] == 1
    assert len(push_service.messages_for(phone)) == 1
    row.refresh_from_db()
    assert row.status == Message.Status.SENT


@time_machine.travel(NOON, tick=False)
def test_a_seeker_without_a_subscribed_phone_gets_no_push_row(employer, boss, trade, town, push_service):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    consent(zhao)
    publish(employer, boss, trade, town, starts_at=next_weekday(3))
    assert Message.objects.filter(channel="inapp", recipient=zhao).count() == 1
    assert not Message.objects.filter(channel="webpush").exists()
