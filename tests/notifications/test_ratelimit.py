"""The provider's rate cap: a token bucket shared by every worker process (Redis), local without Redis."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest
import redis
from django.conf import settings

from notifications import delivery, ratelimit
from notifications.models import Message
from notifications.ratelimit import LocalBucket, RedisBucket

REDIS_URL = settings.TEST_REDIS_URL  # GIGMARKET_TEST_REDIS_URL: the only Redis database tests may touch


@pytest.fixture
def still_clock(monkeypatch):
    """The local bucket's clock stands still: the waits are exact however slowly the calls run."""
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: 1024.0)


def test_local_bucket_allows_a_burst_then_spaces_calls(still_clock):
    bucket = LocalBucket()
    assert bucket.reserve(n=20, rate=100, capacity=20) == 0
    wait = bucket.reserve(n=30, rate=100, capacity=20)
    assert wait == pytest.approx(0.3)  # 30 tokens at 100/s, the bucket empty
    wait2 = bucket.reserve(n=10, rate=100, capacity=20)
    assert wait2 == pytest.approx(0.4)  # queued behind the first reservation


def _drain(key: str, calls: int, n: int, rate: float, capacity: float, out) -> None:
    bucket = RedisBucket(REDIS_URL, key)
    for _ in range(calls):
        time.sleep(bucket.reserve(n=n, rate=rate, capacity=capacity))
    out.put(time.monotonic())


@pytest.mark.redis
def test_redis_bucket_is_shared_by_processes():
    """3 processes × 200 messages at 400/s: together they need ≥ (600 − 80) / 400 = 1.3 s; each alone
    would be done in 0.3 s."""
    key = f"test-rate:{uuid.uuid4().hex}"
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start = time.monotonic()
    procs = [ctx.Process(target=_drain, args=(key, 20, 10, 400, 80, out)) for _ in range(3)]
    for p in procs:
        p.start()
    ends = [out.get(timeout=20) for _ in procs]
    for p in procs:
        p.join(timeout=5)
    redis.Redis.from_url(REDIS_URL).delete(key)  # this test's key only
    elapsed = max(ends) - start
    assert 1.25 <= elapsed < 4, elapsed


@pytest.mark.django_db
def test_delivery_keeps_under_the_providers_cap(aliyun, settings):
    """The gateway refuses anything above 50/s; delivery at a 50/s cap gets no refusal."""
    settings.SMS_RATE_PER_SECOND = 50
    settings.NOTIFY_BATCH_SIZE = 20
    aliyun.rate_cap = 50
    aliyun._tokens = 50
    Message.objects.bulk_create(
        Message(event_key=f"r{i}", phone=f"139{i:08d}", template="order_settled",
                params={"post": "p", "amount": "1.00"}, body="…")
        for i in range(150)
    )  # fmt: skip
    start = time.monotonic()
    while delivery.deliver():
        pass
    elapsed = time.monotonic() - start
    assert aliyun.throttled == 0 and len(aliyun.received) == 150
    assert elapsed >= (150 - 10) / 50 - 0.2  # the bucket's 0.2-second burst, then 50/s


def test_redis_bucket_keeps_to_the_cap_locally_while_redis_is_down(still_clock):
    from tests.outage import closed_port_url

    bucket = RedisBucket(closed_port_url(), "test-rate:down")
    assert bucket.reserve(n=20, rate=100, capacity=20) == 0
    assert bucket.reserve(n=30, rate=100, capacity=20) == pytest.approx(0.3)
