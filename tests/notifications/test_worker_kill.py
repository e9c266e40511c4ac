"""Exactly once with a real Celery worker on Redis: 1,000 messages; the worker is killed with SIGKILL while
the provider holds a batch it has accepted but not yet answered; a new worker and the sweeper finish the
job. The fake gateway must have received every message exactly once."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db.models import Count

from notifications.models import Message
from tests.celery_worker import client as celery_client
from tests.celery_worker import delete_keys, kill, new_prefix, start_worker, worker_env

N = 1000


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
    redis_url, prefix = settings.TEST_REDIS_URL, new_prefix("kill")
    Message.objects.bulk_create(
        Message(event_key=f"kill:{i}", phone=f"139{i:08d}", template="order_settled",
                params={"post": f"岗位{i}", "amount": "250.00"}, body="…")
        for i in range(N)
    )  # fmt: skip
    ids = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    gateway.hold_at = 300  # the call that brings the total to 300 is accepted, then left unanswered
    env = worker_env(redis_url=redis_url, prefix=prefix, gateway=gateway)
    client = celery_client(redis_url=redis_url, prefix=prefix)
    first = second = None
    try:
        first = start_worker(env, "first@%h")
        with client.connection_for_write() as conn, client.producer_or_acquire(None) as producer:
            del conn
            for pk in ids:
                client.send_task("notifications.tasks.deliver_message", args=[pk], producer=producer)
        assert gateway.held.wait(40), "the worker never reached the held call"
        kill(first)  # SIGKILL while the provider has a batch it has not answered
        gateway.release.set()
        at_kill = _by_status()
        assert at_kill.get("sending", 0) >= 1, at_kill  # the held batch at least: accepted, not recorded
        assert 300 <= len(gateway.received) < N

        second = start_worker(env, "second@%h")

        def all_sent() -> bool:
            client.send_task("notifications.tasks.sweep")
            return not Message.objects.exclude(status=Message.Status.SENT).exists()

        assert _wait(all_sent, timeout=45, step=1.0), _by_status()
    finally:
        gateway.release.set()
        for proc in (first, second):
            kill(proc)
        delete_keys(redis_url, prefix)
    per_phone = gateway.per_phone()
    assert len(per_phone) == N
    assert set(per_phone.values()) == {1}, [p for p, n in per_phone.items() if n > 1][:10]
    assert gateway.throttled == 0
