"""The live event streams (live/streams.py) driven through gigmarket.asgi in this process: who may open
one, that it carries only the owner's events, the per-user cap, replay after Last-Event-ID, public slot
counts, and Redis missing, unreachable or lost mid-stream (a JSON answer or a ``fallback`` event, never an
error page). Committed transactions and real threads: the streams read the database from their pool."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from jobs import grabbing
from jobs.models import Post
from live.hub import get_hub
from notifications.services import Outgoing, message_queue, message_queue_bulk
from tests.factories import PostFactory, UserFactory, verified_seeker
from tests.outage import closed_port_url

from .asgi import request

pytestmark = pytest.mark.django_db(transaction=True)


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def params(title="招小工") -> dict:
    return {
        "post": title,
        "pay": "200元/天",
        "place": "西城街道",
        "start": "12月08日 08:00",
        "reason": "离家近",
        "link": "http://x/",
    }


async def committed(fn, *args, **kwargs):
    """Run ``fn`` in a thread of its own, in autocommit (its after-commit publishing runs), then hang up."""

    def work():
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(work)


def inapp(user, key: str, title="招小工"):
    return message_queue(
        event_key=key,
        template="post_recommended_inapp",
        params=params(title),
        recipient=user,
        channel="inapp",
    )


def run(coro):
    async def main():
        try:
            return await coro
        finally:
            await get_hub().close()

    return asyncio.run(main())


def test_anonymous_or_forged_session_gets_401_json():
    async def go():
        anon = await request("/events/me").ended_within()
        forged = request("/events/me", session="not-a-session")
        await forged.ended_within()
        return anon, forged

    anon, forged = run(go())
    assert forged.status == 401
    assert forged.json()["code"] == "not_authenticated"
    assert '"not_authenticated"' in anon


def test_staff_gets_403_and_other_methods_405():
    staff = UserFactory(phone="13900000001", role="staff", is_staff=True)
    key = session_of(staff)

    async def go():
        refused = request("/events/me", session=key)
        await refused.ended_within()
        return refused

    refused = run(go())
    assert refused.status == 403
    assert refused.headers["content-type"] == "application/json"


def test_a_stream_carries_its_owners_events_only(settings):
    settings.NOTIFY_QUIET_HOURS = ("00:00", "00:00")  # none (the suite may run at night)
    mine, other = verified_seeker(phone="13600000101"), verified_seeker(phone="13600000102")
    post = PostFactory(title="安装办公桌")

    keys = session_of(mine), session_of(other)

    async def go():
        a = await request("/events/me", session=keys[0]).started()
        b = await request("/events/me", session=keys[1]).started()
        await a.wait_for("retry: 5000")
        await committed(inapp, mine, f"match:{post.pk}:{mine.pk}", "安装办公桌")
        await committed(inapp, other, "other:1", "别人的活")
        await a.wait_for("安装办公桌")
        await b.wait_for("别人的活")
        await a.close()
        await b.close()
        return a, b

    a, b = run(go())
    assert a.status == 200 and a.headers["content-type"].startswith("text/event-stream")
    ((event_id, name, data),) = a.events()
    assert name == "message" and int(event_id) == data["id"]
    assert data["post"]["id"] == post.pk and data["post"]["title"] == "安装办公桌"
    assert data["post"]["claim_url"] == f"/jobs/{post.pk}/claim/"
    assert data["post"]["slots_left"] == 5 and data["silent"] is False
    assert "别人的活" not in a.buffer.decode()
    assert "安装办公桌" not in b.buffer.decode()


def test_a_fan_out_wakes_every_recipient_once():
    seekers = [verified_seeker(phone=f"136000002{i:02d}") for i in range(3)]

    keys = [session_of(s) for s in seekers]

    async def go():
        streams = [await request("/events/me", session=k).started() for k in keys]
        for s in streams:
            await s.wait_for("retry:")
        await committed(
            message_queue_bulk,
            [
                Outgoing(
                    event_key=f"digest:{s.pk}",
                    template="post_recommended_inapp",
                    params=params("批量"),
                    recipient=s,
                )
                for s in seekers
            ],
            channel="inapp",
        )
        for s in streams:
            await s.wait_for("批量")
        for s in streams:
            await s.close()
        return streams

    streams = run(go())
    assert [len(s.events()) for s in streams] == [1, 1, 1]


def test_the_fourth_stream_of_a_user_is_refused_with_429_until_one_closes(settings):
    settings.LIVE_MAX_STREAMS_PER_USER = 3
    user = verified_seeker(phone="13600000301")
    key = session_of(user)

    async def go():
        open_ = [await request("/events/me", session=key).started() for _ in range(3)]
        fourth = request("/events/me", session=key)
        await fourth.ended_within()
        await open_[0].close()
        fifth = await request("/events/me", session=key).started()
        statuses = [s.status for s in open_], fourth, fifth.status
        for s in [*open_[1:], fifth]:
            await s.close()
        return statuses

    statuses, fourth, fifth = run(go())
    assert statuses == [200, 200, 200]
    assert fourth.status == 429 and fourth.json()["fallback"] == "poll"
    assert fifth == 200


def test_a_reconnect_replays_what_was_missed_after_last_event_id():
    user = verified_seeker(phone="13600000401")
    key = session_of(user)
    seen = inapp(user, "seen:1", "看过的")
    other = verified_seeker(phone="13600000402")
    inapp(other, "theirs:1", "别人的")
    missed = [inapp(user, f"missed:{i}", f"错过的{i}") for i in range(2)]

    async def go():
        resumed = await request("/events/me", session=key, headers={"last-event-id": str(seen.pk)}).started()
        await resumed.wait_for("错过的1")
        fresh = await request("/events/me", session=key).started()
        await fresh.wait_for("retry:")
        await asyncio.sleep(0.2)
        await resumed.close()
        await fresh.close()
        return resumed, fresh

    resumed, fresh = run(go())
    replayed = resumed.events()
    assert [int(i) for i, _, _ in replayed] == [m.pk for m in missed]
    assert all(d["replay"] and d["silent"] for _, _, d in replayed)
    assert "别人的" not in resumed.buffer.decode() and "看过的" not in resumed.buffer.decode()
    assert fresh.events() == []  # a new page starts from now (its own render time: ?since=)


def test_since_the_page_render_sends_what_came_meanwhile_and_not_before():
    user = verified_seeker(phone="13600000501")
    old = inapp(user, "old:1", "早前的")
    old.__class__.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    rendered = int(timezone.now().timestamp()) - 1
    inapp(user, "new:1", "刚来的")

    key = session_of(user)

    async def go():
        s = await request(f"/events/me?since={rendered}", session=key).started()
        await s.wait_for("刚来的")
        await s.close()
        return s

    s = run(go())
    assert [d["text"][:8] for _, _, d in s.events()] == ["为您推荐：刚来的"]


def test_quiet_hours_mark_events_silent(settings):
    now = timezone.localtime()
    settings.NOTIFY_QUIET_HOURS = (
        (now - dt.timedelta(hours=1)).strftime("%H:%M"),
        (now + dt.timedelta(hours=1)).strftime("%H:%M"),
    )
    user = verified_seeker(phone="13600000601")

    key = session_of(user)

    async def go():
        s = await request("/events/me", session=key).started()
        await s.wait_for("retry:")
        await committed(inapp, user, "night:1", "夜里的活")
        await s.wait_for("夜里的活")
        await s.close()
        return s

    ((_, _, data),) = run(go()).events()
    assert data["silent"] is True and data["replay"] is False


def test_slot_counts_tick_down_to_full_for_public_streams():
    post = PostFactory(slots=2)
    other = PostFactory(slots=3)
    grabbers = [verified_seeker(phone=f"136000007{i:02d}") for i in range(2)]

    async def go():
        watch = await request(f"/events/slots?posts={post.pk},{other.pk}").started()
        everything = await request("/events/slots").started()
        await watch.wait_for('"slots_left":2')
        await committed(grabbing.claim, post=post, worker=grabbers[0])
        await watch.wait_for('"slots_left":1')
        await committed(grabbing.claim, post=post, worker=grabbers[1])
        await watch.wait_for('"status":"filled"')
        await everything.wait_for('"status":"filled"')
        await watch.close()
        await everything.close()
        return watch, everything

    watch, everything = run(go())
    counts = [(d["post"], d["slots_left"], d["status"]) for _, name, d in watch.events() if name == "slots"]
    assert counts[:2] == sorted([(post.pk, 2, "open"), (other.pk, 3, "open")])
    assert counts[2:] == [(post.pk, 1, "open"), (post.pk, 0, "filled")]
    assert [d["slots_left"] for _, _, d in everything.events()] == [1, 0]
    assert Post.objects.get(pk=post.pk).status == Post.Status.FILLED


def test_nonsense_resume_points_start_from_now_not_an_error():
    user = verified_seeker(phone="13600001201")
    inapp(user, "n:1", "以前的")
    key = session_of(user)

    async def go():
        out = []
        for path, headers in [
            ("/events/me?since=99999999999999999999", {}),
            ("/events/me?since=-5&after=x", {}),
            ("/events/me", {"last-event-id": "abc"}),
        ]:
            s = await request(path, session=key, headers=headers).started()
            await s.wait_for("retry:")
            await asyncio.sleep(0.2)
            await s.close()
            out.append(s)
        return out

    for s in run(go()):
        assert s.status == 200 and s.events() == []


@pytest.mark.parametrize("query", ["posts=", "posts=abc", "posts=" + ",".join(str(i) for i in range(1, 300))])
def test_bad_slot_lists_get_a_field_error(query):
    async def go():
        r = request(f"/events/slots?{query}")
        await r.ended_within()
        return r

    r = run(go())
    assert r.status == 400 and r.json()["field"] == "posts"


def test_without_redis_the_in_process_broker_carries_events(settings):
    settings.LIVE_REDIS_URL = None
    user = verified_seeker(phone="13600000801")

    key = session_of(user)

    async def go():
        s = await request("/events/me", session=key).started()
        await s.wait_for("retry:")
        await committed(inapp, user, "local:1", "本机的")
        await s.wait_for("本机的")
        await s.close()
        return s

    assert len(run(go()).events()) == 1


def test_redis_unreachable_refuses_streams_with_503_json_and_publishing_never_fails(settings):
    settings.LIVE_REDIS_URL = closed_port_url()
    user = verified_seeker(phone="13600000901")

    key = session_of(user)

    async def go():
        r = request("/events/me", session=key)
        await r.ended_within()
        slots = request("/events/slots")
        await slots.ended_within()
        return r, slots

    r, slots = run(go())
    assert r.status == 503 and r.json()["fallback"] == "poll"
    assert slots.status == 503
    # The message still commits; its wake-up is skipped (and logged without personal data).
    message = asyncio.run(committed(inapp, user, "nobody-listens:1"))
    assert message.pk and message.status == "sent"


def test_redis_lost_mid_stream_ends_it_with_a_fallback_event(settings, tmp_path):
    from tests.faults.conftest import RedisServer

    server = RedisServer(tmp_path).start()
    settings.LIVE_REDIS_URL = server.url
    user = verified_seeker(phone="13600001001")
    key = session_of(user)
    try:

        async def go():
            s = await request("/events/me", session=key).started()
            await s.wait_for("retry:")
            await committed(inapp, user, "before:1", "断线前")
            await s.wait_for("断线前")
            server.stop()
            text = await s.ended_within(20)
            again = request("/events/me", session=key)
            await again.ended_within()
            return text, again

        text, again = run(go())
    finally:
        server.stop()
    assert "event: fallback" in text
    assert again.status == 503


def test_poll_fallback_answers_own_events_and_json_errors(client):
    user = verified_seeker(phone="13600001101")
    other = verified_seeker(phone="13600001102")
    first = inapp(user, "p:1", "第一条")
    inapp(other, "p:2", "别人的")
    second = inapp(user, "p:3", "第二条")
    assert client.get("/live/poll/me").status_code == 401
    client.force_login(user)
    data = client.get(f"/live/poll/me?after={first.pk}").json()
    assert [e["id"] for e in data["events"]] == [second.pk] and data["cursor"] == second.pk
    assert client.get("/live/poll/me").json()["events"] == []
    bad = client.get("/live/poll/me?after=x")
    assert bad.status_code == 400 and bad.json()["field"] == "after"
    assert client.get("/live/poll/slots?posts=x").status_code == 400


def test_heartbeats_keep_an_idle_stream_alive_until_its_time_limit(settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    settings.LIVE_STREAM_MAX_SECONDS = 1.0

    async def go():
        s = await request("/events/slots").started()
        await s.wait_for(": ping")
        return await s.ended_within(10)

    text = run(go())
    assert text.count(": ping") >= 2 and text.startswith("retry: 5000")
