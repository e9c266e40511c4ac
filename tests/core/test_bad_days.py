"""Redis and the broker accelerate; they never decide correctness (docs/bad-days.md). These point the cache
and Celery at a port where nothing listens (connections refused at once); tests/faults/ stops a real
Redis mid-flow and cuts real PostgreSQL connections."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import DatabaseError, OperationalError
from django.test import Client
from django.urls import reverse
from rest_framework.views import APIView

from accounts.models import PhoneCode
from core import ratelimit, throttling
from core.cache import CacheUnavailable
from core.cache import breaker as cache_breaker
from core.models import RateCounter
from jobs.models import Claim
from notifications.models import Message
from tests.factories import EmployerFactory, PostFactory, verified_seeker
from tests.outage import celery_broker, closed_port_url, timed, use_cache


@pytest.fixture
def redis_down(settings):
    use_cache(settings, closed_port_url(), "baddays-unit")
    return settings


# ------------------------------------------------------------------------------------------- the cache


def test_unreachable_cache_reads_miss_writes_drop_counters_raise(redis_down):
    assert cache.get("k", "fallback") == "fallback"
    cache.set("k", 1)
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("lock", 1) is True  # a caller using it as a lock does the work itself
    assert cache.delete("k") is False
    with pytest.raises(CacheUnavailable):
        cache.incr("counter")
    assert cache.available() is False
    assert cache_breaker.open


def test_breaker_skips_redis_so_requests_do_not_wait(redis_down, monkeypatch):
    cache.get("k")  # trips the breaker
    calls = []
    monkeypatch.setattr(
        "django.core.cache.backends.redis.RedisCacheClient.get", lambda *a, **k: calls.append(a)
    )
    _, seconds = timed(lambda: [cache.get(f"k{i}") for i in range(1000)])
    assert calls == [] and seconds < 0.5


@pytest.mark.redis
def test_clear_removes_only_this_caches_keys(settings):
    import redis

    other = redis.Redis.from_url(settings.TEST_REDIS_URL)
    other.set("someone-else:key", "1", ex=60)
    cache.set("mine", 1)
    cache.clear()
    assert cache.get("mine") is None
    assert other.get("someone-else:key") == b"1"
    other.delete("someone-else:key")


# ------------------------------------------------------------------------------------------ rate limits


@pytest.mark.django_db
def test_rate_limit_counts_in_the_database_while_redis_is_down(redis_down):
    results = [ratelimit.hit(scope="t", key="10.0.0.1", limit=3, window_seconds=60) for _ in range(5)]
    assert results == [True, True, True, False, False]
    row = RateCounter.objects.get()
    assert row.count == 5 and "10.0.0.1" not in row.name  # only a hash of the key is stored
    assert ratelimit.hit(scope="t", key="10.0.0.2", limit=3, window_seconds=60)  # another key, its own count


@pytest.mark.django_db
def test_rate_limit_fails_closed_when_nothing_can_count(redis_down, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(ratelimit, "_db_count", broken)
    assert ratelimit.hit(scope="t", key="k", limit=1000, window_seconds=60) is False


@pytest.mark.django_db
def test_code_requests_per_address_are_limited_through_the_database(redis_down, settings, client):
    import datetime as dt

    settings.PHONE_CODE_IP_LIMIT = (dt.timedelta(hours=1), 2)
    users = [verified_seeker(phone=f"1360000100{i}") for i in range(3)]
    answers = [client.post(reverse("accounts:send_code", args=["login"]), {"phone": u.phone}) for u in users]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert PhoneCode.objects.count() == 2  # the third address-wide request was refused, not a 500
    assert "此网络请求验证码过于频繁" in answers[2].content.decode()


@pytest.mark.django_db
def test_login_by_code_with_redis_down(redis_down, client, outbox):
    user = verified_seeker(phone="13600002001")
    sent = client.post(reverse("accounts:send_code", args=["login"]), {"phone": user.phone})
    assert sent.status_code == 200
    code = outbox.code(user.phone)
    response = client.post(reverse("accounts:login"), {"way": "code", "phone": user.phone, "code": code})
    assert response.status_code == 302
    assert client.get("/api/v1/me/").json()["phone"].endswith(user.phone[-4:])


@pytest.mark.django_db
def test_api_throttles_hold_with_redis_down(redis_down, monkeypatch):
    monkeypatch.setattr(
        APIView, "throttle_classes", [throttling.AnonRateThrottle, throttling.UserRateThrottle]
    )
    monkeypatch.setattr(throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "100/min"})
    url = f"/api/v1/posts/{PostFactory().pk}/"  # the board itself has no throttle (shared kiosks)
    client = Client()
    codes = [client.get(url).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    refused = client.get(url)
    assert refused.json()["code"] == "throttled" and 0 < int(refused["Retry-After"]) <= 60


@pytest.mark.django_db
def test_healthz_says_the_cache_is_down(redis_down, client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error"}
    # The load balancer's check: web servers stay in while Redis is down, since they still serve.
    ready = client.get("/healthz?only=database")
    assert ready.status_code == 200 and ready.json()["cache"] == "error"


@pytest.mark.django_db
def test_board_and_screen_serve_from_the_database(redis_down, settings, client, service_point):
    settings.BOARD_CACHE_SECONDS = 5
    settings.BOARD_LOCAL_CACHE_SECONDS = 1
    post = PostFactory(title="扎钢筋师傅", area=service_point.area)
    assert "扎钢筋师傅" in client.get("/jobs/").content.decode()
    assert client.get("/api/v1/posts/").json()["results"][0]["id"] == post.pk
    data = client.get(reverse("hall:screen_data", args=[service_point.pk]))
    assert data.status_code == 200


# ------------------------------------------------------------------------------------------- the broker


@pytest.mark.django_db(transaction=True)
def test_a_committed_claim_reports_success_with_the_broker_down(client):
    post = PostFactory(employer=EmployerFactory(), slots=2)
    worker = verified_seeker(phone="13600003001")
    client.force_login(worker)
    with celery_broker(closed_port_url(), "baddays-unit") as app:
        response, seconds = timed(lambda: client.post(reverse("jobs:claim", args=[post.pk])))
        assert response.status_code == 302, response.content.decode()[:500]
        # The second action does not wait for the broker again: the breaker is open.
        from notifications.tasks import deliver_message

        assert deliver_message.delay(1) is None
        _, again = timed(lambda: deliver_message.delay(1))
        assert again < 0.05
        del app
    assert Claim.objects.filter(worker=worker, post=post).exists()
    assert Message.objects.filter(status=Message.Status.PENDING).exists()  # the outbox holds what was queued
    assert seconds < 5


def test_worker_sweeps_are_declared_and_exist():
    import importlib

    from django.conf import settings

    assert "notifications.tasks.sweep" in settings.WORKER_RECOVERY_SWEEPS
    for name in settings.WORKER_RECOVERY_SWEEPS:
        module, attr = name.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attr)), name


# ----------------------------------------------------------------------------------------- the database


@pytest.mark.django_db
def test_a_database_outage_in_a_view_is_a_chinese_503(client, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("jobs.selectors.board", down)
    response = client.get("/jobs/")
    assert response.status_code == 503
    assert "系统繁忙" in response.content.decode() and response["Retry-After"]


@pytest.mark.django_db
def test_a_database_outage_in_the_api_is_a_structured_503(client, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("jobs.api.selectors.board", down)
    response = client.get("/api/v1/posts/")
    assert response.status_code == 503
    assert response.json() == {"code": "service_unavailable", "detail": "系统繁忙，请稍后再试", "fields": {}}


@pytest.mark.django_db
def test_a_database_outage_in_middleware_is_a_503_too(monkeypatch, alice):
    from django.contrib.sessions.backends.db import SessionStore

    def down(self, *args, **kwargs):
        raise OperationalError("the database system is starting up")

    client = Client(raise_request_exception=False)
    client.force_login(alice)
    monkeypatch.setattr(SessionStore, "load", down)
    response = client.get("/jobs/")
    assert response.status_code == 503 and "系统繁忙" in response.content.decode()
    monkeypatch.setattr(SessionStore, "load", down)
    api = client.get("/api/v1/me/")
    assert api.status_code == 503 and api.json()["code"] == "service_unavailable"


@pytest.mark.django_db
def test_other_errors_are_still_500(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("jobs.selectors.board", broken)
    response = Client(raise_request_exception=False).get("/jobs/")
    assert response.status_code == 500


def test_breaker_reopens_after_its_time(monkeypatch):
    from core.breaker import Breaker

    b = Breaker("x", 0.05)
    b.trip(ConnectionError())
    assert b.open
    time.sleep(0.06)
    assert not b.open


@pytest.mark.redis
def test_a_channel_whose_connection_is_gone_reports_a_connection_error(settings):
    """The worker's guard (gigmarket/celery.py): kombu building a client for a channel whose connection the
    consumer already collected raises a connection error (logged, reconnected), not an AttributeError
    (which made the worker exit when Redis died)."""
    import kombu

    import gigmarket.celery  # noqa: F401 (installs the guard)

    connection = kombu.Connection(settings.TEST_REDIS_URL)
    try:
        channel = connection.default_channel
        channel._pool = None
        transport_client, channel.connection.client = channel.connection.client, None  # what collect() leaves
        with pytest.raises(connection.connection_errors):
            channel._connparams()
        channel.connection.client = transport_client
        channel.connection, transport = None, channel.connection  # an ack on a channel already closed
        with pytest.raises(connection.connection_errors):
            channel._connparams()
        channel.connection = transport
    finally:
        connection.release()
