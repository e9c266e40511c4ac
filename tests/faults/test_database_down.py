"""PostgreSQL restarting mid-traffic (docs/bad-days.md), simulated on the test database by cutting the
app's connections with ``pg_terminate_backend`` and, for an outage, refusing new ones
(``ALLOW_CONNECTIONS false``):

- a claim or a publish whose connection dies mid-transaction answers a clean 503 (a Chinese page, the
  API's error shape) and leaves nothing behind; the next request succeeds;
- a real gunicorn with persistent connections answers 503 during the outage and recovers by itself when
  the database is back, without one failed request (connection health checks);
- a real Celery worker whose connections are cut mid-task goes on delivering, each message exactly once
  (Celery's Django fix-up closes connections after every task, so only the tasks running at the moment
  fail; their rows are re-found by the lease and the worker's own sweeps).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

import psycopg2
import pytest
from django.db import connection
from django.db.models.signals import post_save
from rest_framework.test import APIClient

from jobs.models import Claim, Post
from notifications.models import Message
from tests.celery_worker import ROOT, delete_keys, kill, new_prefix, start_worker, worker_env
from tests.celery_worker import client as celery_client
from tests.factories import EmployerFactory, PostFactory, UserFactory, verified_seeker
from wallet.models import LedgerTransaction, Posting

from .conftest import Probe, free_port

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def _control():
    """A connection of the test's own, to the server's maintenance database."""
    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
    )  # fmt: skip
    conn.autocommit = True
    return conn


def _terminate(where: str, params) -> int:
    """Terminate the backends matching ``where`` and wait until they are gone."""
    with _control() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {where}", params)
        killed = cur.rowcount
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            cur.execute(f"SELECT count(*) FROM pg_stat_activity WHERE {where}", params)
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.02)
    conn.close()
    return killed


def _cut_this_connection_on(model):
    """While connected: the first save of ``model`` terminates this very connection mid-transaction."""
    fired = []

    def receiver(sender, **kwargs):
        if not fired:
            fired.append(True)
            _terminate("pid = %s", [connection.connection.get_backend_pid()])

    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"cut-{model.__name__}")
    return lambda: post_save.disconnect(sender=model, dispatch_uid=f"cut-{model.__name__}")


# ------------------------------------------------------------------------------ mid-transaction, in-process


@pytest.mark.django_db(transaction=True)
def test_a_claim_cut_mid_transaction_is_a_clean_503_and_leaves_nothing(client):
    post = PostFactory(employer=EmployerFactory(), slots=2)
    worker = verified_seeker(phone="13600006001")
    client.force_login(worker)
    messages_before = Message.objects.count()
    release = _cut_this_connection_on(Claim)
    try:
        response = client.post(f"/jobs/{post.pk}/claim/")
    finally:
        release()
    assert response.status_code == 503 and "系统繁忙" in response.content.decode()
    assert response["Retry-After"]
    post.refresh_from_db()
    assert post.slots_left == 2 and not Claim.objects.exists()
    assert Message.objects.count() == messages_before
    # The next request works: a fresh connection, the claim goes through.
    again = client.post(f"/jobs/{post.pk}/claim/")
    assert again.status_code == 302
    assert Claim.objects.filter(worker=worker, post=post).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_publish_cut_mid_ledger_write_is_a_structured_503_and_no_money_moves():
    boss = UserFactory(phone="13700006001", role="employer")
    employer = EmployerFactory(created_by=boss)
    draft = PostFactory(employer=employer, status=Post.Status.DRAFT, published_at=None)
    ledger_before = (LedgerTransaction.objects.count(), Posting.objects.count())
    api = APIClient()
    api.force_authenticate(boss)
    release = _cut_this_connection_on(Posting)  # after the first leg of the hold, before the second
    try:
        response = api.post(f"/api/v1/my/posts/{draft.pk}/publish/")
    finally:
        release()
    assert response.status_code == 503
    assert response.json() == {"code": "service_unavailable", "detail": "系统繁忙，请稍后再试", "fields": {}}
    draft.refresh_from_db()
    assert draft.status == Post.Status.DRAFT
    assert (LedgerTransaction.objects.count(), Posting.objects.count()) == ledger_before
    again = api.post(f"/api/v1/my/posts/{draft.pk}/publish/")
    assert again.status_code == 200 and again.json()["status"] == "open"


# ------------------------------------------------------------------------------------- a real gunicorn


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


class _Answer:
    def __init__(self, status, body, content_type):
        self.status_code, self.content, self.content_type = status, body, content_type

    def json(self):
        return json.loads(self.content)


def _start_gunicorn(name: str, health_checks: bool) -> tuple[subprocess.Popen, str]:
    from tests.celery_worker import database_url

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.server_settings",
        "GIGMARKET_TEST_DATABASE_URL": database_url(),
        "GIGMARKET_TEST_APP_NAME": name,
        "GIGMARKET_TEST_HEALTH_CHECKS": "1" if health_checks else "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gigmarket.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--timeout", "30", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if _get(base + "/healthz")[0] == 200:
                return proc, base
        time.sleep(0.2)
    kill(proc)
    raise AssertionError("gunicorn did not start")


def _warm(base: str, n: int = 10) -> None:
    for _ in range(n):  # every gunicorn worker holds a connection now
        assert _get(base + "/jobs/")[0] == 200


def _allow_connections(db_name: str, allowed: bool) -> None:
    with _control() as conn, conn.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{db_name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
    conn.close()


@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_503_during_the_outage_and_recovers_by_itself():
    PostFactory(title="小工急招")
    name = f"gm-fault-web-{os.getpid()}"
    db_name = connection.settings_dict["NAME"]
    proc, base = _start_gunicorn(name, health_checks=True)
    probe = Probe("PostgreSQL down")
    try:
        _warm(base)
        # A restart between requests: every connection gunicorn holds is dead; the next requests still work.
        assert _terminate("application_name = %s", [name]) >= 1
        after_restart = [_get(base + "/jobs/")[0] for _ in range(10)]
        assert after_restart == [200] * 10

        # An outage: connections cut and refused.
        _allow_connections(db_name, False)
        try:
            _terminate("application_name = %s", [name])
            page = probe("board page", lambda: _Answer(*_get(base + "/jobs/")), expect=(503,))
            assert "系统繁忙" in page.content.decode()
            api = probe("API board", lambda: _Answer(*_get(base + "/api/v1/posts/")), expect=(503,))
            assert api.json()["code"] == "service_unavailable"
            probe("login page", lambda: _Answer(*_get(base + "/login/")), expect=(200, 503))
            health = probe("healthz", lambda: _Answer(*_get(base + "/healthz")), expect=(503,))
            assert health.json()["database"] == "error"
        finally:
            _allow_connections(db_name, True)
        back = time.monotonic()
        statuses = [_get(base + "/jobs/")[0] for _ in range(10)]
        recovered = time.monotonic() - back
        assert statuses == [200] * 10  # no request after the return fails
        print("\n" + probe.report() + f"\nback: 10 requests, all 200, in {recovered * 1000:.0f} ms")
    finally:
        kill(proc)


@pytest.mark.django_db(transaction=True)
def test_without_health_checks_the_first_request_after_a_restart_would_fail():
    """The control: the same restart without CONN_HEALTH_CHECKS gives each gunicorn worker one failed
    request (a clean 503, thanks to the middleware), which is why production turns them on."""
    name = f"gm-fault-nohc-{os.getpid()}"
    proc, base = _start_gunicorn(name, health_checks=False)
    try:
        _warm(base)
        _terminate("application_name = %s", [name])
        statuses = [_get(base + "/jobs/")[0] for _ in range(10)]
        assert 503 in statuses and 500 not in statuses
        assert statuses[-1] == 200
    finally:
        kill(proc)


# ----------------------------------------------------------------------------------- a real Celery worker


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_recovers_its_database_connections_by_itself(redis_server, gateway):
    name = f"gm-fault-worker-{os.getpid()}"
    prefix = new_prefix("faults-db")
    env = worker_env(redis_url=redis_server.url, prefix=prefix, gateway=gateway, GIGMARKET_TEST_APP_NAME=name)
    sender = celery_client(redis_url=redis_server.url, prefix=prefix)
    worker = start_worker(env, "faults-db@%h")

    def queue(start: int, n: int) -> list[int]:
        rows = Message.objects.bulk_create(
            Message(event_key=f"db:{i}", phone=f"139{i:08d}", template="order_settled",
                    params={"post": f"岗位{i}", "amount": "1.00"}, body="…")
            for i in range(start, start + n)
        )  # fmt: skip
        for row in rows:
            sender.send_task("notifications.tasks.deliver_message", args=[row.pk])
        return [row.pk for row in rows]

    def all_sent() -> bool:
        return not Message.objects.exclude(status=Message.Status.SENT).exists()

    def wait(predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not predicate():
            time.sleep(0.2)
        return predicate()

    try:
        queue(0, 20)
        assert wait(all_sent, 60)
        # Cut the worker's connections while it is delivering (each provider call answers slowly). It holds a
        # connection only while it queries (claims, outcomes), not while the provider answers: poll for one.
        gateway.latency = 0.5
        second = queue(20, 40)
        pending = Message.objects.filter(pk__in=second).exclude(status=Message.Status.SENT)
        cut = 0
        deadline = time.monotonic() + 30
        while not cut and time.monotonic() < deadline and pending.exists():
            cut = _terminate("application_name = %s", [name])
            time.sleep(0.01)
        assert cut >= 1, "the worker held no connection mid-task"
        gateway.latency = 0
        assert wait(all_sent, 90), Counter(Message.objects.values_list("status", flat=True))
    finally:
        kill(worker)
        with contextlib.suppress(Exception):
            delete_keys(redis_server.url, prefix)
    assert sorted(gateway.per_phone().values()) == [1] * 60  # every one delivered, none twice
