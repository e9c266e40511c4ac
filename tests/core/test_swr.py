"""core.swr.StaleWhileRebuild: fresh copies are served, a stale one is served while exactly one caller
rebuilds it, refused or failed builds free the key, and with the cache down every caller reads the
database (each process then keeping its own copy for the fresh period)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache

from core.swr import StaleWhileRebuild
from tests.outage import closed_port_url, reset_breakers, use_cache


@pytest.fixture
def swr():
    helper = StaleWhileRebuild(f"swr-test:{time.time_ns()}", fresh=lambda: 5, local=lambda: 0)
    yield helper
    helper.clear_local()


class Builds:
    def __init__(self, *values):
        self.values = list(values)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.values.pop(0)


def _stale(swr, key):
    _fresh_until, value = cache.get(swr.shared_key(key))
    cache.set(swr.shared_key(key), (time.time() - 1, value), 60)


def test_a_fresh_copy_is_built_once_and_shared(swr):
    build = Builds("one", "two")
    assert swr.get("k", build) == "one"
    assert swr.get("k", build) == "one"
    assert build.calls == 1
    assert StaleWhileRebuild(swr.prefix, fresh=lambda: 5).get("k", build) == "one"  # another process


def test_a_stale_copy_is_served_while_exactly_one_caller_rebuilds(swr):
    swr.get("k", lambda: "old")
    _stale(swr, "k")
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_build():
        calls.append(1)
        started.set()
        release.wait(10)
        return "new"

    results = {}

    def visit(name):
        results[name] = swr.get("k", slow_build)

    rebuilder = threading.Thread(target=visit, args=("rebuilder",))
    rebuilder.start()
    assert started.wait(10)
    others = [threading.Thread(target=visit, args=(n,)) for n in range(8)]
    for t in others:
        t.start()
    for t in others:
        t.join(10)
    assert [results[n] for n in range(8)] == ["old"] * 8  # nobody waited, nobody built
    release.set()
    rebuilder.join(10)
    assert results["rebuilder"] == "new" and len(calls) == 1
    assert swr.get("k", lambda: pytest.fail("fresh again: no build")) == "new"
    assert cache.get(swr.lock_key("k")) is None


def test_a_declined_or_failed_rebuild_frees_the_key_at_once(swr):
    swr.get("k", lambda: "old")
    _stale(swr, "k")
    assert swr.get("k", lambda: None) is None  # declined (e.g. a refused query): not kept
    assert cache.get(swr.lock_key("k")) is None
    assert cache.get(swr.shared_key("k"))[1] == "old"

    def broken():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        swr.get("k", broken)
    assert cache.get(swr.lock_key("k")) is None
    assert swr.get("k", lambda: "new") == "new"  # the next caller rebuilds


def test_each_process_keeps_a_local_copy_for_its_local_seconds(swr, monkeypatch):
    helper = StaleWhileRebuild(swr.prefix, fresh=lambda: 5, local=lambda: 1)
    build = Builds("one", "two")
    assert helper.get("k", build) == "one"
    cache.delete(helper.shared_key("k"))
    assert helper.get("k", build) == "one"  # no shared copy, no build: this process's own
    later = time.time() + 1.5
    monkeypatch.setattr(time, "time", lambda: later)
    assert helper.get("k", build) == "two"


def test_switched_off_it_always_builds():
    helper = StaleWhileRebuild("swr-test-off", fresh=lambda: 0, local=lambda: 1)
    build = Builds("one", "two")
    assert helper.get("k", build) == "one"
    assert helper.get("k", build) == "two"


def test_with_the_cache_down_every_caller_reads_the_database_and_keeps_its_copy(settings, monkeypatch):
    use_cache(settings, closed_port_url(), "swr-down")
    try:
        helper = StaleWhileRebuild("swr-test-down", fresh=lambda: 5, local=lambda: 1)
        build = Builds("from the database", "again")
        assert helper.get("k", build) == "from the database"  # no error, the database answers
        later = time.time() + 3  # past the local second: the copy stands in for the shared one
        monkeypatch.setattr(time, "time", lambda: later)
        assert helper.get("k", build) == "from the database" and build.calls == 1
        latest = later + 3  # past the fresh period: built again
        monkeypatch.setattr(time, "time", lambda: latest)
        assert helper.get("k", build) == "again"
    finally:
        reset_breakers()


def test_a_miss_reads_and_writes_the_shared_cache_once_and_frees_only_a_lock_it_took(swr, monkeypatch):
    from core import swr as module

    calls = []
    for name in ("get", "set", "add", "delete"):
        real = getattr(cache, name)
        monkeypatch.setattr(
            module.cache, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k)
        )
    assert swr.get("k", lambda: "one") == "one"
    assert calls == ["get", "set"]  # no lock was taken, none is freed

    _stale(swr, "k")
    cache.set(swr.lock_key("k"), 1, 60)  # somebody else is rebuilding
    calls.clear()
    assert swr.get("k", lambda: "two") == "one"  # served stale
    assert calls == ["get", "add"]
    assert cache.get(swr.lock_key("k")) == 1  # their lock stays

    cache.delete(swr.lock_key("k"))
    calls.clear()
    assert swr.get("k", lambda: "three") == "three"
    assert calls == ["get", "add", "set", "delete"]
    assert cache.get(swr.lock_key("k")) is None
