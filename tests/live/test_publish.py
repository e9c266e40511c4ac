"""core.live, the publishing side: a wake-up goes out only after commit, names ids only, and a dead Redis
never fails (nor slows) the request that committed."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from core import live
from jobs import grabbing
from notifications.models import Message
from notifications.services import Outgoing, message_queue, message_queue_bulk
from tests.factories import PostFactory, verified_seeker
from tests.outage import closed_port_url

PARAMS = {"post": "招小工", "pay": "200元/天", "place": "西城", "start": "", "reason": "", "link": "/"}


@pytest.fixture
def heard(settings):
    """The in-process broker's wake-ups (no Redis), recorded."""
    settings.LIVE_REDIS_URL = None
    got: list[tuple[str, dict]] = []

    def listener(name, payload):
        got.append((name, payload))

    live.add_local_listener(listener)
    yield got
    live.remove_local_listener(listener)


@pytest.mark.django_db(transaction=True)
def test_an_inapp_message_wakes_its_owner_after_commit_only(heard):
    user = verified_seeker(phone="13600002001")
    with transaction.atomic():
        message = message_queue(
            event_key="a:1", template="post_recommended_inapp", params=PARAMS, recipient=user, channel="inapp"
        )
        assert heard == []  # not before the commit
    assert heard == [("user", {"e": [[user.pk, message.pk]]})]
    with pytest.raises(RuntimeError), transaction.atomic():
        message_queue(
            event_key="a:2", template="post_recommended_inapp", params=PARAMS, recipient=user, channel="inapp"
        )
        raise RuntimeError("rolled back")
    assert len(heard) == 1  # a rolled-back message wakes nobody
    message_queue(
        event_key="a:3",
        template="phone_code",
        params={"code": "123456", "minutes": 5, "purpose": "登录"},
        phone=user.phone,
    )
    assert len(heard) == 1  # an SMS is not a live event


@pytest.mark.django_db(transaction=True)
def test_a_fan_out_is_one_wake_up_for_the_batch(heard):
    users = [verified_seeker(phone=f"136000021{i:02d}") for i in range(3)]
    rows = message_queue_bulk(
        [
            Outgoing(event_key=f"b:{u.pk}", template="post_recommended_inapp", params=PARAMS, recipient=u)
            for u in users
        ],
        channel="inapp",
    )
    assert heard == [("user", {"e": [[u.pk, m.pk] for u, m in zip(users, rows, strict=True)]})]


@pytest.mark.django_db(transaction=True)
def test_a_grab_publishes_the_committed_slot_count(heard):
    post = PostFactory(slots=1)
    grabbing.claim(post=post, worker=verified_seeker(phone="13600002201"))
    slots = [p for name, p in heard if name == "slots"]
    assert slots == [{"p": post.pk, "n": 0, "s": "filled"}]


@pytest.mark.django_db(transaction=True)
def test_redis_down_skips_the_wake_up_quickly_and_the_message_stays(settings, caplog):
    settings.LIVE_REDIS_URL = closed_port_url()
    settings.LIVE_PUBLISH_BACKOFF_SECONDS = 30
    live._down_until.clear()
    user = verified_seeker(phone="13600002301")
    message = message_queue(
        event_key="c:1", template="post_recommended_inapp", params=PARAMS, recipient=user, channel="inapp"
    )
    assert Message.objects.filter(pk=message.pk, status="sent").exists()
    assert "wake-up skipped" in caplog.text and user.phone not in caplog.text
    started = time.monotonic()
    assert live.publish(live.USER, {"e": [[user.pk, message.pk]]}) is False  # backing off: no connect
    assert time.monotonic() - started < 0.05
    live._down_until.clear()
