"""Exactly once with a real Celery worker on Redis: 1,000 messages; the worker is killed with SIGKILL while
the provider holds a batch it has accepted but not yet answered; a new worker and the sweeper finish the
job. The fake gateway must have received every message exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.db.models import Count

from notifications.models import Message

REDIS_URL = "redis://127.0.0.1:6379/13"  # this suite's own Redis database
ROOT = Path(__file__).resolve().parents[2]
N = 1000


def _worker_env(gateway) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
        "GIGMARKET_TEST_DATABASE_URL": url,
        "GIGMARKET_REDIS_URL": REDIS_URL,
        "GIGMARKET_SMS_BACKEND": "aliyun",
        "GIGMARKET_SMS_HTTP_URL": gateway.url,
        "GIGMARKET_SMS_ACCESS_KEY_ID": gateway.key_id,
        "GIGMARKET_SMS_ACCESS_KEY_SECRET": gateway.secret,
        "GIGMARKET_SMS_RATE_PER_SECOND": "2000",
    }


def _start_worker(env, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "gigmarket", "worker", "-c", "2", "-P", "prefork", "-n", name,
         "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)  # the worker's own process group: its pool children die with it
    proc.wait(timeout=20)


def _by_status() -> dict[str, int]:
    return dict(Message.objects.values_list("status").annotate(n=Count("pk")))


def _wait(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_send_every_message_arrives_exactly_once(gateway):
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    Message.objects.bulk_create(
        Message(event_key=f"kill:{i}", phone=f"139{i:08d}", template="order_settled",
                params={"post": f"岗位{i}", "amount": "250.00"}, body="…")
        for i in range(N)
    )  # fmt: skip
    ids = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    gateway.hold_at = 300  # the call that brings the total to 300 is accepted, then left unanswered
    env = _worker_env(gateway)
    client = Celery("kill-test", broker=REDIS_URL, set_as_current=False)
    first = second = None
    try:
        first = _start_worker(env, "first@%h")
        with client.connection_for_write() as conn, client.producer_or_acquire(None) as producer:
            del conn
            for pk in ids:
                client.send_task("notifications.tasks.deliver_message", args=[pk], producer=producer)
        assert gateway.held.wait(40), "the worker never reached the held call"
        _kill(first)  # SIGKILL while the provider has a batch it has not answered
        gateway.release.set()
        at_kill = _by_status()
        assert at_kill.get("sending", 0) >= 1, at_kill  # the held batch at least: accepted, not recorded
        assert 300 <= len(gateway.received) < N

        second = _start_worker(env, "second@%h")

        def all_sent() -> bool:
            client.send_task("notifications.tasks.sweep")
            return not Message.objects.exclude(status=Message.Status.SENT).exists()

        assert _wait(all_sent, timeout=45, step=1.0), _by_status()
    finally:
        gateway.release.set()
        for proc in (first, second):
            if proc is not None:
                _kill(proc)
        broker.flushdb()
    per_phone = gateway.per_phone()
    assert len(per_phone) == N
    assert set(per_phone.values()) == {1}, [p for p, n in per_phone.items() if n > 1][:10]
    assert gateway.throttled == 0
