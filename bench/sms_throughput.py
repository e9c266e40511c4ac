"""SMS throughput through Celery against a fake Aliyun gateway capped at 500 messages/s.

    .venv/bin/python bench/sms_throughput.py                 # 5,000 messages, 2 worker processes
    .venv/bin/python bench/sms_throughput.py --help

What one run does (everything on 127.0.0.1; PostgreSQL and Redis as for the tests):

1. Creates/migrates the database ``gigmarket_bench_sms`` (``--db``) and empties this bench's Redis
   database (``--redis``, default db 9).
2. Starts the fake gateway (``notifications.testing.FakeSmsGateway``) in this process, capped at ``--cap``
   messages/s (over the cap it answers ``Throttling.User``, as the provider would).
3. Queues ``--messages`` SMS through ``notifications.services.message_queue`` (outbox rows + one Celery
   task per message on Redis), in transactions of 500, with no worker running.
4. Starts a real ``celery worker`` (``--concurrency`` prefork processes) with the aliyun backend pointing at
   the gateway and the shared Redis rate cap set to ``--rate`` (default: the gateway's cap), then measures
   at the gateway: messages accepted per second from the first to the last one, throttled answers, and
   messages delivered more than once (must be 0). ``--one-number`` sends every message to one number, so
   nothing can be batched: one ``SendSms`` call per message (the worst case, e.g. codes).

Prints a report and writes ``bench/results/sms_throughput-latest.txt``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--cap", type=float, default=500.0, help="the gateway's cap, messages/s")
    parser.add_argument("--rate", type=float, default=0, help="our rate cap (default: the gateway's cap)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/gigmarket_bench_sms")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--one-number",
        action="store_true",
        help="every message to the same number: no batching, one SendSms call per message (worst case)",
    )
    args = parser.parse_args()

    ensure_database(args.db)
    os.environ.update(bench_env(args))
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import transaction

    from notifications.models import Message
    from notifications.services import message_queue
    from notifications.testing import FakeSmsGateway

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(args.redis).flushdb()
    Message.objects.filter(event_key__startswith="bench-sms:").delete()

    gateway = FakeSmsGateway(key_id="bench-key-id", secret="bench-key-secret", rate_cap=args.cap).start()
    run = f"{int(time.time())}"
    print(f"排队 {args.messages} 条短信（无 worker 运行）…")
    started = time.monotonic()
    batch = 500
    for first in range(0, args.messages, batch):
        with transaction.atomic():
            for i in range(first, min(first + batch, args.messages)):
                message_queue(
                    event_key=f"bench-sms:{run}:{i}",
                    template="order_settled",
                    params={"post": f"岗位{i}", "amount": "250.00"},
                    phone="13900000000" if args.one_number else f"139{i:08d}",
                )
    queued_in = time.monotonic() - started
    print(f"排队用时 {queued_in:.1f} s（{args.messages / queued_in:.0f} 条/s，含写发件箱和投递 Celery 任务）")

    env = {**os.environ, **bench_env(args, gateway.url)}
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    log = (results / "sms_throughput-worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "gigmarket", "worker", "-c", str(args.concurrency),
         "-P", "prefork", "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + args.timeout
        while len(gateway.received) < args.messages and time.monotonic() < deadline:
            if worker.poll() is not None:
                sys.exit("the Celery worker stopped")
            time.sleep(0.2)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
    received = list(gateway.received)
    gateway.stop()
    if len(received) < 2:
        sys.exit("nothing arrived at the gateway")
    first_at, last_at = received[0]["at"], received[-1]["at"]
    # A call's messages arrive together: count what came after the first call, over the time it took.
    after_first = [m for m in received if m["biz_id"] != received[0]["biz_id"]]
    rate = len(after_first) / (last_at - first_at)
    # Each message has its own "post" parameter: a repeat of one is a duplicate delivery.
    seen = Counter((m["phone"], m["params"].get("post")) for m in received)
    duplicates = sum(1 for n in seen.values() if n > 1)
    sent_rows = Message.objects.filter(event_key__startswith=f"bench-sms:{run}:", status="sent").count()
    load = os.getloadavg()
    lines = [
        f"SMS throughput — {time.strftime('%Y-%m-%d %H:%M:%S')}, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        f"messages: {args.messages}; gateway cap {args.cap:.0f}/s; our cap {args.rate or args.cap:.0f}/s; "
        f"worker processes: {args.concurrency}; {'one number (SendSms each)' if args.one_number else 'distinct numbers'}",
        f"accepted by the gateway: {len(received)} in {last_at - first_at:.2f} s "
        f"→ {rate:.0f} messages/s = {rate / args.cap:.0%} of the cap",
        f"calls: SendBatchSms {gateway.calls['SendBatchSms']}, SendSms {gateway.calls['SendSms']}; "
        f"throttled answers: {gateway.throttled} messages",
        f"messages delivered more than once: {duplicates}; rows marked sent: {sent_rows}",
        f"queueing (outbox rows + Celery tasks): {args.messages / queued_in:.0f} messages/s",
    ]
    report = "\n".join(lines)
    print(report)
    name = "sms_throughput-one-number-latest.txt" if args.one_number else "sms_throughput-latest.txt"
    (results / name).write_text(report + "\n")
    if duplicates:
        sys.exit("duplicates at the gateway")


if __name__ == "__main__":
    main()
