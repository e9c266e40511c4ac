"""The fault suite's own services: a ``redis-server`` on a free port that a test can stop and start again,
and a real Celery worker on it (tests/celery_worker.py). Everything it touches is its own: its Redis
process, the test database the runner created, key prefixes of its own."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.conf import settings

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throw-away Redis without persistence: a restart comes back empty, like a lost instance."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # as a crash would: no goodbye to the clients
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which(REDIS_SERVER):
        if settings.E.require_services if hasattr(settings, "E") else False:
            pytest.fail(f"{REDIS_SERVER} is needed by the fault suite")
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def gateway():
    from notifications.testing import FakeSmsGateway

    gw = FakeSmsGateway().start()
    yield gw
    gw.stop()


class Probe:
    """Requests made during a fault: each one's status and time, for the assertions and the report."""

    def __init__(self, title: str):
        self.title = title
        self.rows: list[tuple[str, int, float]] = []

    def __call__(self, name: str, call, expect=(200,)):
        start = time.monotonic()
        response = call()
        seconds = time.monotonic() - start
        self.rows.append((name, response.status_code, seconds))
        assert response.status_code in expect, (name, response.status_code, response.content[:300])
        return response

    def report(self) -> str:
        lines = [f"{self.title}: {len(self.rows)} requests, "
                 f"{sum(1 for _, s, _ in self.rows if s >= 500 and s != 503)} errors (5xx other than 503), "
                 f"slowest {max(t for *_, t in self.rows) * 1000:.0f} ms"]  # fmt: skip
        lines += [f"  {status} {seconds * 1000:7.1f} ms  {name}" for name, status, seconds in self.rows]
        return "\n".join(lines)
