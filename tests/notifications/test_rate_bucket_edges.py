"""The provider's token bucket at its edges: refill over time, the capacity ceiling, a bucket left with less
than one token, the shared Redis bucket in this process, one bucket per SMS backend."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings as django_settings

from notifications import ratelimit
from notifications.ratelimit import LocalBucket, RedisBucket


class Clock:
    def __init__(self):
        self.now = 1024.0  # steps below are exact binary fractions: no rounding in the arithmetic

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ratelimit.time, "monotonic", clock)
    return clock


def test_a_full_bucket_gives_its_capacity_at_once_and_the_next_token_waits_one_interval(clock):
    bucket = LocalBucket()
    assert bucket.reserve(n=10, rate=100, capacity=10) == 0.0
    assert bucket.reserve(n=1, rate=100, capacity=10) == pytest.approx(0.01)


def test_a_fraction_of_a_token_left_is_no_wait(clock):
    bucket = LocalBucket()
    assert bucket.reserve(n=10, rate=100, capacity=10.5) == 0.0  # 0.5 left: nothing owed


def test_tokens_come_back_at_the_rate(clock):
    bucket = LocalBucket()
    bucket.reserve(n=10, rate=80, capacity=10)
    clock.now += 0.0625  # five tokens back
    assert bucket.reserve(n=5, rate=80, capacity=10) == 0.0
    assert bucket.reserve(n=2, rate=80, capacity=10) == pytest.approx(2 / 80)


def test_a_long_rest_refills_only_up_to_the_capacity(clock):
    bucket = LocalBucket()
    bucket.reserve(n=10, rate=100, capacity=10)
    clock.now += 60  # 6,000 tokens' worth of time
    assert bucket.reserve(n=10, rate=100, capacity=10) == 0.0
    assert bucket.reserve(n=3, rate=100, capacity=10) == pytest.approx(0.03)


def test_acquire_sleeps_exactly_the_wait(settings, monkeypatch, clock):
    settings.SMS_RATE_REDIS_URL = None
    settings.SMS_RATE_PER_SECOND = 100
    settings.SMS_BACKEND = f"edge-{uuid.uuid4().hex}"  # a bucket of its own
    slept: list[float] = []
    monkeypatch.setattr(ratelimit.time, "sleep", slept.append)
    cap = 100 * ratelimit.BURST_SECONDS  # 20 tokens
    assert ratelimit.acquire(int(cap)) == 0.0
    assert slept == []
    assert ratelimit.acquire(5) == pytest.approx(0.05)
    assert slept == [pytest.approx(0.05)]


def test_acquire_never_has_a_bucket_under_one_message(settings, monkeypatch, clock):
    settings.SMS_RATE_REDIS_URL = None
    settings.SMS_RATE_PER_SECOND = 1  # 0.2 s worth would be a fifth of a message
    settings.SMS_BACKEND = f"edge-{uuid.uuid4().hex}"
    monkeypatch.setattr(ratelimit.time, "sleep", lambda s: None)
    assert ratelimit.acquire(1) == 0.0
    assert ratelimit.acquire(1) == pytest.approx(1.0)


@pytest.mark.redis
def test_the_redis_bucket_spends_and_refills_like_the_local_one():
    if not django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("needs Redis")
    url = django_settings.CACHES["default"]["LOCATION"]
    key = f"gmtest-rate:{uuid.uuid4().hex}"
    bucket = RedisBucket(url, key)
    # At 1 token a second the waits are seconds long, so the time the calls themselves take (a busy
    # machine, mutation testing's tracing) only narrows them by what the clock measured.
    try:
        started = time.monotonic()
        assert bucket.reserve(n=10, rate=1, capacity=10) == 0.0
        wait = bucket.reserve(n=5, rate=1, capacity=10)  # 5 owed at 1/s, less the time between calls
        assert bucket._client.exists(key)
        other = RedisBucket(url, key)  # a second process's view of the same bucket
        later = other.reserve(n=5, rate=1, capacity=10)  # owes its own 5 behind the first caller's
        elapsed = time.monotonic() - started
        assert 5 - elapsed <= wait <= 5
        assert 10 - elapsed <= later <= 10 and later > wait
    finally:
        bucket._client.delete(key)


@pytest.mark.redis
def test_each_backend_has_a_bucket_of_its_own_shared_by_callers(settings):
    if not django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("needs Redis")
    settings.SMS_RATE_REDIS_URL = django_settings.CACHES["default"]["LOCATION"]
    tag = uuid.uuid4().hex
    settings.SMS_BACKEND = f"a-{tag}"
    first, again = ratelimit.bucket(), ratelimit.bucket()
    settings.SMS_BACKEND = f"b-{tag}"
    other = ratelimit.bucket()
    try:
        assert first is again
        assert other is not first
        assert first.reserve(n=5, rate=100, capacity=5) == 0.0
        assert other.reserve(n=5, rate=100, capacity=5) == 0.0  # not drained by backend a
    finally:
        for b in (first, other):
            b._client.delete(b._key)


# ------------------------------------------------------------------- choosing and losing the shared bucket


def test_without_redis_the_bucket_is_local_and_one_per_backend(settings):
    settings.SMS_RATE_REDIS_URL = None
    settings.SMS_BACKEND = f"local-{uuid.uuid4().hex}"
    first = ratelimit.bucket()
    assert type(first) is LocalBucket and ratelimit.bucket() is first
    settings.SMS_BACKEND = f"local-{uuid.uuid4().hex}"
    assert ratelimit.bucket() is not first


def test_the_shared_bucket_is_named_by_prefix_and_backend(settings):
    settings.SMS_RATE_REDIS_URL = "redis://127.0.0.1:1/0"  # never contacted: the name only
    settings.SMS_BACKEND = f"named-{uuid.uuid4().hex}"
    settings.SMS_RATE_KEY_PREFIX = "run42"
    assert ratelimit.bucket()._key == f"run42:sms-rate:{settings.SMS_BACKEND}"
    del settings.SMS_RATE_KEY_PREFIX
    assert ratelimit.bucket()._key == f"gigmarket:sms-rate:{settings.SMS_BACKEND}"


def test_an_unreachable_redis_keeps_to_the_cap_locally_and_says_so(clock, caplog):
    bucket = RedisBucket("redis://127.0.0.1:1/0", f"gone-{uuid.uuid4().hex}")  # nothing listens on port 1
    with caplog.at_level("WARNING", logger="notifications.ratelimit"):
        assert bucket.reserve(n=10, rate=100, capacity=10) == 0.0
        assert bucket.reserve(n=2, rate=100, capacity=10) == pytest.approx(0.02)  # the same local bucket
    [first, *_] = caplog.records
    assert first.name == "notifications.ratelimit"
    assert (
        first.getMessage()
        == "shared SMS rate bucket unavailable (ConnectionError): keeping to the cap locally"
    )


def test_acquire_does_not_sleep_when_nothing_is_owed(settings, monkeypatch, clock):
    settings.SMS_RATE_REDIS_URL = None
    settings.SMS_RATE_PER_SECOND = 50  # a bucket of 10
    settings.SMS_BACKEND = f"edge-{uuid.uuid4().hex}"
    slept: list[float] = []
    monkeypatch.setattr(ratelimit.time, "sleep", slept.append)
    assert [ratelimit.acquire(1) for _ in range(10)] == [0.0] * 10
    assert slept == []
    assert ratelimit.acquire(1) == pytest.approx(0.02)
    assert slept == [pytest.approx(0.02)]


def test_a_redis_that_does_not_answer_costs_at_most_two_seconds_to_give_up_on():
    bucket = RedisBucket("redis://10.255.255.1:6379/0", "never-contacted")  # the client connects lazily
    timeout = bucket._client.connection_pool.connection_kwargs["socket_connect_timeout"]
    assert timeout is not None and 0 < timeout <= 2
