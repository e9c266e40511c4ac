"""SMS fan-out against a fake Aliyun gateway capped at 500 messages/s: queueing, codes, codes under a digest.

    .venv/bin/python bench/sms_throughput.py               # 2,000-message queueing sample, 10,000 fan-out
    .venv/bin/python bench/sms_throughput.py --help

Everything on 127.0.0.1 (PostgreSQL and Redis as for the tests); the database is ``gigmarket_bench_fanout_sms``
(``--db``), the Redis database ``--redis`` (default 9) is emptied between phases. The fake gateway
(``notifications.testing.FakeSmsGateway``) runs in this process, capped at ``--cap`` messages/s (over the
cap it answers ``Throttling.User`` as the provider would); our shared token bucket is set to ``--rate``
(default: the cap). Real ``celery worker`` processes deliver, started as docker-compose.yml starts them: one
on ``-Q celery,codes`` (``--concurrency`` processes) and one on ``-Q codes`` (1 process).

Each figure is measured twice in the same run, **baseline** (the path before issue #16: one
``message_queue`` and one Celery task per message; codes dispatched like any message, on the default queue,
behind everything queued before them) and **now** (``message_queue_bulk``: one ``bulk_create`` and one task
per ``NOTIFY_BATCH_SIZE`` rows; codes on their own queue):

1. **Queueing** ``--queue-sample`` messages (no worker running), messages/s (target ≥ 2,000).
2. **Codes** ``--codes`` one-time codes, each queued on its own as a login request does, delivered one
   ``SendSms`` each (codes are never batched): messages/s accepted at the gateway as a share of the cap
   (target ≥ 90 %).
3. **A login code during a digest** a ``--fanout``-message fan-out (digest-sized) is queued, the workers
   start, and while it goes out a code is requested every ``1/--code-rate`` s: time from the request to the
   gateway, p50/p95/max (target p95 ≤ 2 s), and the fan-out's own rate.

Every phase checks exactly-once at the gateway (a (phone, parameters) pair twice is a duplicate; must be 0).
Prints a report with the load average and writes ``bench/results/sms_throughput-latest.txt``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_env(args, gateway_url: str = "") -> dict[str, str]:
    key = base64.urlsafe_b64encode(hashlib.sha256(b"gigmarket-bench-fields").digest()).decode()
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "GIGMARKET_DATABASE_URL": args.db,
        "GIGMARKET_REDIS_URL": args.redis,
        "GIGMARKET_SECRET_KEY": "bench-only-" + hashlib.sha256(b"gigmarket-bench-secret").hexdigest(),
        "GIGMARKET_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GIGMARKET_FIELD_ENCRYPTION_KEYS": key,
        "GIGMARKET_BLIND_INDEX_KEY": "bench-blind-index",
        "GIGMARKET_DEBUG": "false",
        "GIGMARKET_CELERY_EAGER": "false",
        "GIGMARKET_SMS_BACKEND": "aliyun",
        "GIGMARKET_SMS_HTTP_URL": gateway_url or "http://127.0.0.1:9/",
        "GIGMARKET_SMS_ACCESS_KEY_ID": "bench-key-id",
        "GIGMARKET_SMS_ACCESS_KEY_SECRET": "bench-key-secret",
        "GIGMARKET_SMS_RATE_PER_SECOND": str(args.rate or args.cap),
    }
    return env


def ensure_database(db_url: str) -> None:
    import psycopg2

    parts = urlsplit(db_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"database name {name!r}: use lower-case letters, digits and _")
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            print(f"创建数据库 {name}")
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


TEMPLATE_CODE, TEMPLATE_FANOUT = "SMS_GM_CODE", "SMS_GM_SETTLED"
CODE_PARAMS = {"code": "246810", "minutes": 5, "purpose": "登录"}
PHASE_TIMEOUT = 300.0


class Bench:
    """What the phases share: the gateway, the worker command, the Django modules (after setup)."""

    def __init__(self, args):
        import redis
        from django.db import transaction

        from notifications import services
        from notifications.models import Message
        from notifications.testing import FakeSmsGateway

        self.args, self.transaction, self.services, self.Message = args, transaction, services, Message  # fmt: skip
        self.redis = redis.Redis.from_url(args.redis)
        self.gateway = FakeSmsGateway(key_id="bench-key-id", secret="bench-key-secret", rate_cap=args.cap)
        self.gateway.start()
        results = ROOT / "bench" / "results"
        results.mkdir(exist_ok=True)
        self.log = (results / "sms_throughput-worker.log").open("w")

    # ------------------------------------------------------------------------------------- plumbing
    def reset(self) -> None:
        """No worker runs here: rows of earlier phases out, the broker's queues and the rate bucket emptied."""
        self.Message.objects.filter(event_key__startswith="bench-sms:").delete()
        # The deleted rows' dead tuples would slow every later phase's claims (autovacuum lags on a busy
        # box); a live outbox is vacuumed as it goes.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE notifications_message")
        self.redis.flushdb()
        with self.gateway._lock:
            self.gateway.received.clear()
            self.gateway.calls.clear()
            self.gateway.throttled = 0

    @contextmanager
    def mode(self, name: str):
        """``baseline``: dispatch as before #16 — a task per message, codes like any message (the default
        queue, ``deliver_message``); ``now``: the code as it is."""
        services = self.services
        saved = services.dispatch, services._dispatch_many
        if name == "baseline":

            def as_before(task, *args):
                return saved[0](task.replace(".deliver_code", ".deliver_message"), *args)

            services.dispatch = as_before
            services._dispatch_many = lambda ids: [
                as_before("notifications.tasks.deliver_message", pk) for pk in ids
            ]
        try:
            yield
        finally:
            services.dispatch, services._dispatch_many = saved

    def start_workers(self) -> list[subprocess.Popen]:
        env = {**os.environ, **bench_env(self.args, self.gateway.url)}
        common = [sys.executable, "-m", "celery", "-A", "gigmarket", "worker", "-P", "prefork", "-l", "WARNING",
                  "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
        return [
            subprocess.Popen(
                [*common, "-Q", queues, "-c", str(concurrency), "-n", f"{name}@%h"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            for name, queues, concurrency in (
                ("bench-main", "celery,codes", self.args.concurrency),
                ("bench-codes", "codes", 1),
            )
        ]

    @staticmethod
    def stop_workers(workers: list[subprocess.Popen]) -> None:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()

    def wait_for(self, done, workers, timeout: float = PHASE_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            if any(w.poll() is not None for w in workers):
                sys.exit("a Celery worker stopped (bench/results/sms_throughput-worker.log)")
            time.sleep(0.05)
        return False

    def received(self, template: str) -> list[dict]:
        with self.gateway._lock:
            return [m for m in self.gateway.received if m["template"] == template]

    def duplicates(self) -> int:
        with self.gateway._lock:
            seen = Counter(
                (m["phone"], json.dumps(m["params"], sort_keys=True)) for m in self.gateway.received
            )
        return sum(1 for n in seen.values() if n > 1)

    # ------------------------------------------------------------------------------------- writing
    def queue_one_by_one(
        self, n: int, tag: str, template: str = "order_settled", prefix: str = "139"
    ) -> None:
        txn = self.args.txn
        for first in range(0, n, txn):
            with self.transaction.atomic():
                for i in range(first, min(first + txn, n)):
                    self.services.message_queue(
                        event_key=f"bench-sms:{tag}:{i}", template=template,
                        params=self.params(template, i), phone=f"{prefix}{i:08d}",
                    )  # fmt: skip

    def queue_bulk(self, n: int, tag: str) -> None:
        Outgoing = self.services.Outgoing
        txn = self.args.txn
        for first in range(0, n, txn):
            with self.transaction.atomic():
                self.services.message_queue_bulk(
                    Outgoing(
                        f"bench-sms:{tag}:{i}",
                        "order_settled",
                        self.params("order_settled", i),
                        phone=f"139{i:08d}",
                    )
                    for i in range(first, min(first + txn, n))
                )

    @staticmethod
    def params(template: str, i: int) -> dict:
        return CODE_PARAMS if template == "phone_code" else {"post": f"岗位{i}", "amount": "250.00"}

    # -------------------------------------------------------------------------------------- phases
    def queueing(self, mode: str) -> float:
        self.reset()
        n = self.args.queue_sample
        with self.mode(mode):
            started = time.monotonic()
            (self.queue_one_by_one if mode == "baseline" else self.queue_bulk)(n, f"q-{mode}")
            seconds = time.monotonic() - started
        assert self.Message.objects.filter(event_key__startswith=f"bench-sms:q-{mode}:").count() == n
        return n / seconds

    def codes(self, mode: str) -> dict:
        self.reset()
        n = self.args.codes
        with self.mode(mode):
            self.queue_one_by_one(n, f"codes-{mode}", template="phone_code", prefix="136")
            cpu = cpu_seconds()
            workers = self.start_workers()
            try:
                complete = self.wait_for(lambda: len(self.gateway.received) >= n, workers)
            finally:
                self.stop_workers(workers)
            cpu = [after - before for before, after in zip(cpu, cpu_seconds(), strict=True)]
        got = self.received(TEMPLATE_CODE)
        after_first = [m for m in got if m["biz_id"] != got[0]["biz_id"]]
        rate = len(after_first) / max(1e-9, got[-1]["at"] - got[0]["at"]) if len(got) > 1 else 0.0
        return {
            "received": len(got), "complete": complete, "rate": rate, "share": rate / self.args.cap,
            "calls": dict(self.gateway.calls), "throttled": self.gateway.throttled,
            "duplicates": self.duplicates(),
            "worker_ms": 1000 * cpu[1] / max(1, len(got)), "gateway_ms": 1000 * cpu[0] / max(1, len(got)),
            "sent_rows": self.Message.objects.filter(
                event_key__startswith=f"bench-sms:codes-{mode}:", status="sent").count(),
        }  # fmt: skip

    def code_under_digest(self, mode: str) -> dict:
        """A login code every 1/code_rate s while a fan-out goes out; latency request → gateway."""
        self.reset()
        n, interval = self.args.fanout, 1.0 / self.args.code_rate
        requested: dict[str, float] = {}
        with self.mode(mode):
            self.queue_bulk(n, f"fan-{mode}")  # rows at once; the dispatch is the mode's
            workers = self.start_workers()
            try:
                started = self.wait_for(lambda: len(self.gateway.received) > 0, workers, timeout=120)
                k = 0
                deadline = time.monotonic() + PHASE_TIMEOUT
                while started and len(self.received(TEMPLATE_FANOUT)) < n and time.monotonic() < deadline:
                    phone = f"137{k:08d}"
                    t0 = time.monotonic()
                    with self.transaction.atomic():
                        self.services.message_queue(
                            event_key=f"bench-sms:code-{mode}:{k}", template="phone_code",
                            params=CODE_PARAMS, phone=phone,
                        )  # fmt: skip
                    requested[phone] = t0
                    k += 1
                    time.sleep(max(0.0, t0 + interval - time.monotonic()))
                self.wait_for(
                    lambda: len(self.received(TEMPLATE_CODE)) >= len(requested), workers, timeout=30
                )
            finally:
                self.stop_workers(workers)
        arrived = {m["phone"]: m["at"] for m in reversed(self.received(TEMPLATE_CODE))}
        latencies = sorted(arrived[p] - t0 if p in arrived else math.inf for p, t0 in requested.items())
        fan = self.received(TEMPLATE_FANOUT)
        fan_rate = len(fan) / max(1e-9, fan[-1]["at"] - fan[0]["at"]) if len(fan) > 1 else 0.0
        return {
            "codes": len(requested), "missing": sum(1 for x in latencies if x == math.inf),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "max": latencies[-1] if latencies else math.nan,
            "fanout_received": len(fan), "fanout_rate": fan_rate, "duplicates": self.duplicates(),
        }  # fmt: skip


def cpu_seconds() -> tuple[float, float]:
    """CPU used so far by this process (the fake gateway's threads, while workers run) and by its finished
    children (the Celery workers and their pool processes, once stopped): user + system, seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queue-sample", type=int, default=2_000, help="messages queued per mode (1.)")
    parser.add_argument("--codes", type=int, default=2_000, help="codes delivered per mode (2.)")
    parser.add_argument("--fanout", type=int, default=10_000, help="the digest's messages (3.)")
    parser.add_argument("--code-rate", type=float, default=5.0, help="codes requested per second during 3.")
    parser.add_argument("--txn", type=int, default=1000, help="messages per transaction when queueing")
    parser.add_argument("--cap", type=float, default=500.0, help="the gateway's cap, messages/s")
    parser.add_argument("--rate", type=float, default=0, help="our rate cap (default: the gateway's cap)")
    parser.add_argument("--concurrency", type=int, default=2, help="processes of the main worker")
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/gigmarket_bench_fanout_sms")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--only", choices=("queueing", "codes", "digest"), action="append",
                        help="run only these phases (repeatable)")  # fmt: skip
    parser.add_argument("--skip-baseline", action="store_true", help="measure the current path only")
    args = parser.parse_args()

    ensure_database(args.db)
    os.environ.update(bench_env(args))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    bench = Bench(args)
    load = os.getloadavg()
    modes = ("now",) if args.skip_baseline else ("baseline", "now")
    phases = args.only or ["queueing", "codes", "digest"]
    lines = [
        f"SMS fan-out — {time.strftime('%Y-%m-%d %H:%M:%S')}, load at start {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f} ({os.cpu_count()} cores, shared)",
        f"gateway cap {args.cap:.0f}/s, our cap {args.rate or args.cap:.0f}/s; workers: -Q celery,codes × "
        f"{args.concurrency} + -Q codes × 1",
    ]
    duplicates = 0
    try:
        if "queueing" in phases:
            q = {mode: bench.queueing(mode) for mode in modes}
            lines.append(
                f"1. queueing {args.queue_sample} messages (outbox rows + Celery tasks): "
                + ", ".join(f"{m} {v:.0f} msg/s" for m, v in q.items())
                + (f" → ×{q['now'] / q['baseline']:.1f}" if "baseline" in q else "")
                + " (target ≥ 2,000 msg/s)"
            )
            print(lines[-1], flush=True)
        if "codes" in phases:
            for mode in modes:
                c = bench.codes(mode)
                duplicates += c["duplicates"]
                lines.append(
                    f"2. codes, {mode}: {c['received']}/{args.codes} at {c['rate']:.0f} msg/s = {c['share']:.0%} "
                    f"of the cap (target ≥ 90%); CPU per code: workers {c['worker_ms']:.1f} ms, gateway "
                    f"{c['gateway_ms']:.1f} ms; calls {c['calls']}; throttled {c['throttled']}; "
                    f"duplicates {c['duplicates']}; rows sent {c['sent_rows']}"
                )
                print(lines[-1], flush=True)
        if "digest" in phases:
            for mode in modes:
                d = bench.code_under_digest(mode)
                duplicates += d["duplicates"]
                lines.append(
                    f"3. login code during a {args.fanout}-message fan-out, {mode}: {d['codes']} codes, p50 "
                    f"{d['p50']:.2f} s, p95 {d['p95']:.2f} s, max {d['max']:.2f} s, not arrived "
                    f"{d['missing']} (target p95 ≤ 2 s); fan-out {d['fanout_received']} at "
                    f"{d['fanout_rate']:.0f} msg/s; duplicates {d['duplicates']}"
                )
                print(lines[-1], flush=True)
    finally:
        bench.reset()
        bench.gateway.stop()
    end = os.getloadavg()
    lines.append(f"load at end {end[0]:.1f} {end[1]:.1f} {end[2]:.1f}")
    report = "\n".join(lines)
    print(report)
    (ROOT / "bench" / "results" / "sms_throughput-latest.txt").write_text(report + "\n")
    if duplicates:
        sys.exit("duplicates at the gateway")


if __name__ == "__main__":
    main()
