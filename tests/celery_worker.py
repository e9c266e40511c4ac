"""A real Celery worker for tests (tests/notifications/test_worker_kill.py, tests/faults/): started as a
subprocess on the test database the runner created and on a Redis URL the test names, under a key prefix
of the test's own, so it never touches another run's keys; ``delete_keys`` removes exactly those."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import redis
from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def new_prefix(label: str) -> str:
    return f"gmtest-{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(*, redis_url: str, prefix: str, gateway=None, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
        "GIGMARKET_TEST_DATABASE_URL": database_url(),
        "GIGMARKET_REDIS_URL": redis_url,
        "GIGMARKET_TEST_KEY_PREFIX": prefix,
        **extra,
    }
    if gateway is not None:
        env.update({
            "GIGMARKET_SMS_BACKEND": "aliyun",
            "GIGMARKET_SMS_HTTP_URL": gateway.url,
            "GIGMARKET_SMS_ACCESS_KEY_ID": gateway.key_id,
            "GIGMARKET_SMS_ACCESS_KEY_SECRET": gateway.secret,
            "GIGMARKET_SMS_RATE_PER_SECOND": "2000",
        })  # fmt: skip
    return env


def start_worker(env: dict[str, str], name: str, *, log=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "gigmarket", "worker", "-c", "2", "-P", "prefork", "-n", name, "-Q", "celery,codes",
         "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log,
    )  # fmt: skip


def kill(proc: subprocess.Popen | None, sig=signal.SIGKILL) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        os.killpg(proc.pid, sig)  # the worker's own process group: its pool children die with it
    proc.wait(timeout=20)


def client(*, redis_url: str, prefix: str) -> Celery:
    """A Celery app that sends to the worker's queues (same broker, same key prefix)."""
    app = Celery("test-client", broker=redis_url, set_as_current=False)
    app.conf.broker_transport_options = {"global_keyprefix": f"{prefix}:"}
    return app


def delete_keys(redis_url: str, prefix: str) -> int:
    """Delete this test's keys (and only those) from the shared test Redis database."""
    r = redis.Redis.from_url(redis_url)
    keys = list(r.scan_iter(match=f"{prefix}*", count=1000))
    # kombu keeps the binding table under its own name with the prefix too; nothing else is ours.
    if keys:
        r.delete(*keys)
    return len(keys)
