"""The fixed-window rate limit (core.ratelimit) at its edges: exactly the limit, one over; a window rolling
over; the cache counter's lifetime and its eviction; the database counter (upsert, expiry, housekeeping);
and refusing when nothing can count. The cache is a recording stand-in here, the clock a fixed number:
the counting rule is tested, not Redis (tests/core/test_bad_days.py runs it against a dead Redis)."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import pytest
import time_machine
from django.db import DatabaseError

from core import ratelimit
from core.cache import CacheUnavailable
from core.models import RateCounter


class FakeCache:
    """Django's cache API as ``_cache_count`` uses it, recording every call."""

    def __init__(self):
        self.values: dict[str, int] = {}
        self.calls: list[tuple] = []
        self.evict_before_incr = False
        self.down = False

    def add(self, name, value, timeout):
        self.calls.append(("add", name, value, timeout))
        if self.down:
            return True  # what ResilientRedisCache answers while Redis is unreachable
        if name in self.values:
            return False
        self.values[name] = value
        return True

    def incr(self, name):
        self.calls.append(("incr", name))
        if self.down:
            raise CacheUnavailable
        if self.evict_before_incr:
            self.values.pop(name, None)
        if name not in self.values:
            raise ValueError(f"Key '{name}' not found")
        self.values[name] += 1
        return self.values[name]

    def set(self, name, value, timeout):
        self.calls.append(("set", name, value, timeout))
        self.values[name] = value


@pytest.fixture
def fake_cache(monkeypatch):
    fake = FakeCache()
    monkeypatch.setattr(ratelimit, "cache", fake)
    return fake


@pytest.fixture
def clock(monkeypatch):
    clock = SimpleNamespace(now=1_000_020.0)  # 16,667 × 60: the start of a one-minute window
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: clock.now))
    return clock


# ------------------------------------------------------------------------------------------ the rule


def test_exactly_the_limit_passes_and_one_more_is_refused(fake_cache, clock):
    answers = [ratelimit.hit(scope="s", key="k", limit=3, window_seconds=60) for _ in range(4)]
    assert answers == [True, True, True, False]


def test_a_limit_of_one_lets_one_through(fake_cache, clock):
    assert ratelimit.hit(scope="s", key="k", limit=1, window_seconds=60) is True
    assert ratelimit.hit(scope="s", key="k", limit=1, window_seconds=60) is False


def test_count_returns_the_events_in_the_window_this_one_included(fake_cache, clock):
    assert [ratelimit.count(scope="s", key="k", window_seconds=60) for _ in range(3)] == [1, 2, 3]


def test_scope_and_key_each_have_their_own_count(fake_cache, clock):
    assert ratelimit.count(scope="s", key="a", window_seconds=60) == 1
    assert ratelimit.count(scope="s", key="b", window_seconds=60) == 1
    assert ratelimit.count(scope="t", key="a", window_seconds=60) == 1
    assert ratelimit.count(scope="s", key="a", window_seconds=60) == 2


def test_events_anywhere_in_one_window_share_its_count(fake_cache, clock):
    clock.now = 1_000_020.0  # 16,667 × 60 + 0: the first second of a window
    assert ratelimit.count(scope="s", key="k", window_seconds=60) == 1
    clock.now += 59.5  # its last half second
    assert ratelimit.count(scope="s", key="k", window_seconds=60) == 2


def test_the_window_rolls_over_at_its_end(fake_cache, clock):
    clock.now = 1_000_079.5  # last half second of the window that started at 1,000,020
    assert ratelimit.hit(scope="s", key="k", limit=1, window_seconds=60)
    assert not ratelimit.hit(scope="s", key="k", limit=1, window_seconds=60)
    clock.now = 1_000_080.0  # the next window, to the second
    assert ratelimit.hit(scope="s", key="k", limit=1, window_seconds=60)
    assert ratelimit.count(scope="s", key="k", window_seconds=60) == 2


def test_the_window_is_counted_from_multiples_of_its_length(fake_cache, clock):
    # one hour windows: 3,600,000 starts one, 3,599,999 is in the previous one
    clock.now = 3_599_999.0
    assert ratelimit.count(scope="s", key="k", window_seconds=3600) == 1
    clock.now = 3_600_000.0
    assert ratelimit.count(scope="s", key="k", window_seconds=3600) == 1
    clock.now = 3_603_599.0
    assert ratelimit.count(scope="s", key="k", window_seconds=3600) == 2


def test_window_left_is_the_time_to_the_end_of_the_window(clock):
    clock.now = 1_000_020.0
    assert ratelimit.window_left(60) == 60.0
    clock.now = 1_000_050.0
    assert ratelimit.window_left(60) == 30.0
    clock.now = 1_000_079.5
    assert ratelimit.window_left(60) == 0.5


# ------------------------------------------------------------------------------------- the cache count


def test_the_cache_counter_starts_at_zero_and_lives_five_seconds_past_the_window(fake_cache, clock):
    assert ratelimit.count(scope="s", key="k", window_seconds=60) == 1
    add, incr = fake_cache.calls
    assert add[0] == "add" and add[2] == 0 and add[3] == 65
    assert incr == ("incr", add[1])
    assert "s" in add[1] and "k" in add[1]


def test_a_counter_evicted_between_add_and_incr_restarts_at_one(fake_cache, clock):
    fake_cache.evict_before_incr = True
    assert ratelimit.count(scope="s", key="k", window_seconds=120) == 1
    (_, added, *_), *_, (kind, name, value, timeout) = fake_cache.calls
    assert (kind, name, value, timeout) == ("set", added, 1, 125)  # the same counter, started again
    assert ratelimit.count(scope="s", key="k", window_seconds=120) == 1  # evicted again by the stand-in


@pytest.mark.django_db
def test_while_the_cache_cannot_count_the_database_does(fake_cache, clock):
    fake_cache.down = True
    assert [ratelimit.hit(scope="s", key="k", limit=2, window_seconds=60) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert RateCounter.objects.get().count == 3


@pytest.mark.django_db
def test_an_unreachable_redis_error_also_falls_back_to_the_database(fake_cache, clock, monkeypatch):
    def refused(name):
        raise ConnectionError("refused")

    monkeypatch.setattr(fake_cache, "incr", refused)
    assert ratelimit.count(scope="s", key="k", window_seconds=60) == 1
    assert RateCounter.objects.count() == 1


# ---------------------------------------------------------------------------------- the database count

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_the_database_counter_is_one_row_per_window_expiring_five_seconds_after_it(monkeypatch):
    monkeypatch.setattr(ratelimit.random, "random", lambda: 0.5)
    with time_machine.travel(NOW, tick=False):
        assert [ratelimit._db_count("rl:s:k:1", 60) for _ in range(3)] == [1, 2, 3]
        assert ratelimit._db_count("rl:s:k:2", 60) == 1
    rows = {row.count: row for row in RateCounter.objects.all()}
    assert set(rows) == {3, 1}
    assert rows[3].expires_at == NOW + dt.timedelta(seconds=65)
    assert len(rows[3].name) == 64 and "rl:" not in rows[3].name  # a SHA-256 of the name, never the key


@pytest.mark.django_db
@pytest.mark.parametrize(("draw", "purged"), [(0.5, False), (0.01, False), (0.0099, True), (0.0, True)])
def test_one_count_in_a_hundred_deletes_the_windows_that_ended(monkeypatch, draw, purged):
    ended = RateCounter.objects.create(name="e" * 64, count=4, expires_at=NOW - dt.timedelta(seconds=1))
    ending = RateCounter.objects.create(name="f" * 64, count=4, expires_at=NOW)
    monkeypatch.setattr(ratelimit.random, "random", lambda: draw)
    with time_machine.travel(NOW, tick=False):
        assert ratelimit._db_count("rl:s:k:1", 60) == 1
    assert RateCounter.objects.filter(pk=ended.pk).exists() is not purged
    assert RateCounter.objects.filter(pk=ending.pk).exists()  # ends now: not yet ended


@pytest.mark.django_db
def test_nothing_can_count_refuses_and_says_so(fake_cache, clock, monkeypatch, caplog):
    fake_cache.down = True

    def broken(*args, **kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(ratelimit, "_db_count", broken)
    with caplog.at_level(logging.WARNING, logger="core.ratelimit"):
        assert ratelimit.hit(scope="sms-ip", key="10.0.0.1", limit=1_000_000_000, window_seconds=60) is False
    assert ratelimit.count(scope="sms-ip", key="10.0.0.1", window_seconds=60) >= 2**31
    [record, *_] = caplog.records
    assert record.name == "core.ratelimit" and record.levelno == logging.WARNING
    assert record.getMessage() == "rate limit sms-ip: no store could count; refusing"
    assert "10.0.0.1" not in record.getMessage()


# ----------------------------------------------------------------------------- Redis, one round trip


@pytest.fixture
def redis_cache():
    from django.core.cache import cache

    if not hasattr(cache, "count_window"):
        pytest.skip("the test cache is not Redis (no services)")
    return cache


def test_redis_counts_a_window_in_one_round_trip_that_lives_five_seconds_past_it(redis_cache, clock):
    from django.core.cache import cache

    counted = [ratelimit.count(scope="rt", key="k1", window_seconds=60) for _ in range(3)]
    assert counted == [1, 2, 3]
    name = cache.make_key("rl:rt:k1:16667")
    assert 60 < cache._cache.get_client(name).ttl(name) <= 65
    assert cache.get("rl:rt:k1:16667") == 3  # the same counter Django's API reads
    clock.now += 60
    assert ratelimit.count(scope="rt", key="k1", window_seconds=60) == 1  # the next window


def test_redis_unreachable_the_window_is_counted_in_the_database(redis_cache, clock, monkeypatch, db):
    from core.cache import breaker

    monkeypatch.setattr(type(breaker), "open", property(lambda self: True))  # Redis away: no call tried
    with pytest.raises(CacheUnavailable):
        redis_cache.count_window("rl:x", 10)
    assert [ratelimit.count(scope="rt", key="k2", window_seconds=60) for _ in range(2)] == [1, 2]
    assert RateCounter.objects.count() == 1
