"""Live events benchmark (docs/live.md): fan-out latency, idle connections per process, and what open
streams cost the board, in one run on a small database of its own.

    .venv/bin/python bench/live_events.py            # creates and seeds gigmarket_bench_live on the first run

One run:

1. creates, migrates and seeds ``gigmarket_bench_live`` (``--db``; ``seed_demo`` with a few hundred posts)
   and makes ``--clients`` verified seekers with a login session each (reused by later runs);
2. starts one uvicorn process on ``gigmarket.asgi`` (``bench.settings``: production settings, Redis) and
   gunicorn for the board (``bench/jobs_board.py``'s helpers);
3. **fan-out latency**: ``--clients`` streams (raw asyncio sockets in this process), (a) each seeker's own
   ``/events/me`` — one ``message_queue_bulk`` to all of them per round, as a push to that many seekers
   writes, timed from its commit; (b) the public ``/events/slots`` — one slot-count PUBLISH per round.
   p50/p95/max over every client and round; the target is p95 ≤ 1 s;
4. **idle connections**: opens streams up to ``--idle`` in all and reads the uvicorn process's RSS from
   ``/proc/<pid>/status`` before and after (target: ≥ 5,000 at ≤ 1 GiB), checking each stream still
   answers an event;
5. **the board with the streams open**: wrk on the board API without streams, with the ``--idle`` streams
   open (and ``--trickle`` slot events a second fanned out to all of them), and without again: req/s and
   p99, each as a ratio to the mean of the two runs without.

Load averages are printed with each figure: the box is shared, absolute numbers are low; the ratios are
what compares. The report is printed and written to ``bench/results/live_events.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import jobs_board as jb  # noqa: E402  (the board bench's environment, gunicorn and wrk helpers)

UVICORN = str(Path(sys.executable).with_name("uvicorn"))
PREFIX = "1531"  # the bench seekers' phones: 153 1 + 7 digits
TARGET = {"p95_s": 1.0, "idle": 5000, "rss_mib": 1024}


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------------------- data


def prepare(args) -> list[str]:
    """Seed the small city once; the bench seekers and a session each. Returns the session keys."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User
    from jobs.models import Post

    if args.skip_seed is False and Post.objects.count() < args.posts // 2:
        jb.seed(SimpleNamespace(workers=args.posts, employers=20, posts=args.posts))
    have = User.objects.filter(phone__startswith=PREFIX).count()
    if have < args.clients:
        jb.verified_seekers(
            prefix=PREFIX, count=args.clients, name="实时压测", region="110105", born=dt.date(1981, 3, 1)
        )
    users = list(User.objects.filter(phone__startswith=PREFIX).order_by("pk")[: args.clients])
    keys = []
    backend = settings.AUTHENTICATION_BACKENDS[-1]
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.set_expiry(6 * 3600)
        store.create()
        keys.append(store.session_key)
    return keys


def fan_out(users: list, round_no: int) -> float:
    """One in-app message to each bench seeker in one transaction (as a push does); the commit's time."""
    from django.db import transaction

    from notifications.services import Outgoing, message_queue_bulk

    params = {
        "post": f"压测推送{round_no}",
        "pay": "200元/天",
        "place": "压测",
        "start": "",
        "reason": "",
        "link": "/",
    }
    stamp = time.time_ns()
    with transaction.atomic():
        message_queue_bulk(
            [
                Outgoing(
                    event_key=f"bench-live:{stamp}:{u.pk}",
                    template="post_recommended_inapp",
                    params=params,
                    recipient=u,
                )
                for u in users
            ],
            channel="inapp",
        )
        committing = time.monotonic()  # the commit and the after-commit PUBLISH follow: both count
    return committing


# ---------------------------------------------------------------------------------------- clients


class Client:
    """One SSE connection over a raw socket: the arrival time of every event (heartbeats ignored)."""

    __slots__ = ("arrivals", "path", "reader", "status", "writer")

    def __init__(self, path: str):
        self.path = path
        self.arrivals: list[float] = []
        self.status = 0
        self.reader = self.writer = None

    async def open(self, port: int, cookie: str | None = None) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        head = f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if cookie:
            head += f"Cookie: sessionid={cookie}\r\n"
        self.writer.write((head + "\r\n").encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        self.status = int(status_line.split()[1])
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass

    async def read(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    return
                now = time.monotonic()
                buffer += chunk
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    if b"data:" in frame:
                        self.arrivals.append(now)
        except (ConnectionError, asyncio.CancelledError):
            return

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def open_clients(
    port: int, paths_cookies: list[tuple[str, str | None]], batch: int = 200
) -> list[Client]:
    clients = []
    for start in range(0, len(paths_cookies), batch):
        group = [Client(path) for path, _ in paths_cookies[start : start + batch]]
        await asyncio.gather(
            *(
                c.open(port, cookie)
                for c, (_, cookie) in zip(group, paths_cookies[start : start + batch], strict=True)
            )
        )
        for c in group:
            asyncio.get_running_loop().create_task(c.read())
        clients += group
    bad = [c.status for c in clients if c.status != 200]
    if bad:
        sys.exit(f"{len(bad)} streams refused: statuses {sorted(set(bad))}")
    return clients


async def wait_arrivals(clients: list[Client], count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        missing = sum(1 for c in clients if len(c.arrivals) < count)
        if not missing:
            return 0
        await asyncio.sleep(0.02)
    return sum(1 for c in clients if len(c.arrivals) < count)


async def latency_user(port: int, keys: list[str], users: list, rounds: int) -> dict:
    """Round 0 is a warm-up, reported on its own (the process's first fan-out opens its pool's database
    connection); rounds 1… are the measured ones."""
    clients = await open_clients(port, [("/events/me", k) for k in keys])
    await asyncio.sleep(1.0)
    samples, missing, per_round = [], 0, []
    for r in range(rounds + 1):
        committed = await asyncio.to_thread(fan_out, users, r)
        lost = await wait_arrivals(clients, r + 1, 15)
        got = [c.arrivals[r] - committed for c in clients if len(c.arrivals) > r]
        per_round.append(round(jb.percentile(got, 95), 3) if got else None)
        if r:
            samples += got
            missing += lost
        await asyncio.sleep(0.3)
    return {
        "clients": len(clients),
        "rounds": rounds,
        "samples": samples,
        "missing": missing,
        "_clients": clients,
        "warmup_p95_s": per_round[0],
        "p95_by_round_s": per_round[1:],
    }


async def latency_public(port: int, count: int, rounds: int, post_id: int) -> dict:
    from core import live

    clients = await open_clients(port, [(f"/events/slots?posts={post_id}", None)] * count)
    await asyncio.sleep(1.0)
    base = [len(c.arrivals) for c in clients]  # the snapshot frame
    samples, missing = [], 0
    for r in range(rounds):
        sent = time.monotonic()
        await asyncio.to_thread(live.publish, live.SLOTS, {"p": post_id, "n": r, "s": "open"})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(
            len(c.arrivals) - b <= r for c, b in zip(clients, base, strict=True)
        ):
            await asyncio.sleep(0.02)
        for c, b in zip(clients, base, strict=True):
            if len(c.arrivals) - b > r:
                samples.append(c.arrivals[b + r] - sent)
            else:
                missing += 1
        await asyncio.sleep(0.3)
    return {
        "clients": len(clients),
        "rounds": rounds,
        "samples": samples,
        "missing": missing,
        "_clients": clients,
    }


def summary(result: dict) -> dict:
    s = result["samples"]
    extra = {k: result[k] for k in ("warmup_p95_s", "p95_by_round_s") if k in result}
    return {
        **extra,
        "clients": result["clients"],
        "rounds": result["rounds"],
        "events": len(s),
        "missing": result["missing"],
        "p50_s": statistics.median(s) if s else None,
        "p95_s": jb.percentile(s, 95) if s else None,
        "max_s": max(s) if s else None,
    }


# ---------------------------------------------------------------------------------------- servers


def start_uvicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    cmd = [UVICORN, "gigmarket.asgi:application", "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
           "--log-level", "warning", "--backlog", "8192", "--timeout-graceful-shutdown", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"uvicorn exited with {proc.returncode}; see {log}")
        try:
            status, _ = jb.get(port, "/healthz?only=database")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    jb.stop(proc)
    sys.exit(f"uvicorn did not answer within 120 s; see {log}")


async def trickle(post_id: int, per_second: float, stop: asyncio.Event) -> int:
    from core import live

    sent = 0
    while not stop.is_set() and per_second > 0:
        await asyncio.to_thread(live.publish, live.SLOTS, {"p": post_id, "n": sent % 50, "s": "open"})
        sent += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1 / per_second)
    return sent


async def measure(args, keys: list[str], users: list, post_id: int, env: dict, wrk_binary: str) -> dict:
    RESULTS = jb.RESULTS
    RESULTS.mkdir(parents=True, exist_ok=True)
    port = jb.free_port()
    server = start_uvicorn(env, port, RESULTS / "uvicorn.log")
    out: dict = {"load_start": load()}
    board_port = jb.free_port()
    board = None
    try:
        rss_empty = rss_mib(server.pid)
        print(f"uvicorn pid {server.pid}: RSS {rss_empty:.0f} MiB with no stream; load {load()}", flush=True)

        print(f"(a) {len(keys)} seekers' own streams, {args.rounds} pushes to all of them …", flush=True)
        user = await latency_user(port, keys, users, args.rounds)
        out["user"] = {**summary(user), "load": load()}
        print(f"    {out['user']}", flush=True)
        print(f"(b) {args.clients} public slot streams, {args.rounds} slot changes …", flush=True)
        public = await latency_public(port, args.clients, args.rounds, post_id)
        out["public"] = {**summary(public), "load": load()}
        print(f"    {out['public']}", flush=True)

        held = user["_clients"] + public["_clients"]
        more = max(0, args.idle - len(held))
        print(f"(c) {more} more idle streams, {args.idle} in all …", flush=True)
        held += await open_clients(port, [(f"/events/slots?posts={post_id}", None)] * more)
        await asyncio.sleep(3)
        before = [len(c.arrivals) for c in held]
        from core import live

        await asyncio.to_thread(live.publish, live.SLOTS, {"p": post_id, "n": 7, "s": "open"})
        await asyncio.sleep(5)
        public_held = [c for c in held if "slots" in c.path]
        answered = sum(
            1 for c, b in zip(held, before, strict=True) if "slots" in c.path and len(c.arrivals) > b
        )
        out["idle"] = {
            "streams": len(held),
            "rss_mib_empty": round(rss_empty, 1),
            "rss_mib": round(rss_mib(server.pid), 1),
            "public_streams_answering_an_event": f"{answered}/{len(public_held)}",
            "load": load(),
        }
        print(f"    {out['idle']}", flush=True)

        # (d) the board with and without the streams open
        gargs = SimpleNamespace(gunicorn_workers=args.gunicorn_workers, gunicorn_threads=1, backlog=256)
        board = jb.start_gunicorn(gargs, env, board_port, RESULTS / "gunicorn-live.log")
        paths = list((await asyncio.to_thread(jb.board_paths)).values())
        for path in paths:
            status, body = jb.get(board_port, path)
            if status != 200:
                sys.exit(f"GET {path}: {status} {body[:200]!r}")

        def run(name: str) -> dict:
            jb.wrk(wrk_binary, board_port, paths, seconds=2, connections=args.connections, threads=1)
            before_load = load()
            r = jb.wrk(
                wrk_binary, board_port, paths, seconds=args.seconds, connections=args.connections, threads=1
            )
            row = {
                "rps": r["rps"],
                "p50_ms": r["p50_ms"],
                "p99_ms": r["p99_ms"],
                "non_2xx": r["non_2xx"],
                "load": before_load,
            }
            print(f"    board {name}: {row}", flush=True)
            return row

        print(
            f"(d) the board (wrk, {args.connections} connections, {args.seconds} s) with the {len(held)} streams open and without …",
            flush=True,
        )
        stop = asyncio.Event()
        ticker = asyncio.get_running_loop().create_task(trickle(post_id, args.trickle, stop))
        with_streams = await asyncio.to_thread(run, f"with {len(held)} streams (+{args.trickle}/s events)")
        stop.set()
        trickled = await ticker
        open_after = sum(1 for c in held if not c.reader.at_eof())
        for c in held:
            c.close()
        await asyncio.sleep(3)
        without_1 = await asyncio.to_thread(run, "without streams")
        without_2 = await asyncio.to_thread(run, "without streams (again)")
        base_rps = (without_1["rps"] + without_2["rps"]) / 2
        base_p99 = (without_1["p99_ms"] + without_2["p99_ms"]) / 2
        out["board"] = {
            "with_streams": with_streams,
            "without": [without_1, without_2],
            "trickle_events": trickled,
            "streams_still_open_after": open_after,
            "rps_ratio": round(with_streams["rps"] / base_rps, 3) if base_rps else None,
            "p99_ratio": round(with_streams["p99_ms"] / base_p99, 3) if base_p99 else None,
        }
    finally:
        if board is not None:
            jb.stop(board)
        jb.stop(server)
    out["load_end"] = load()
    return out


def report(out: dict) -> str:
    u, p, i, b = out["user"], out["public"], out["idle"], out["board"]
    ok = lambda good: "✓" if good else "✗"  # noqa: E731
    lines = [
        f"实时事件压测 · {out['when']} · {out['cpus']} CPU · 负载 开始 {out['load_start']} / 结束 {out['load_end']}",
        "",
        f"推送→收到（{u['clients']} 个求职者各自的流，{u['rounds']} 轮群发）：p50 {u['p50_s'] * 1000:.0f} ms，"
        f"p95 {u['p95_s'] * 1000:.0f} ms，最慢 {u['max_s'] * 1000:.0f} ms，未收到 {u['missing']} "
        f"{ok(u['p95_s'] <= TARGET['p95_s'] and not u['missing'])}（目标 p95 ≤ 1 s）· 负载 {u['load']}；"
        f"预热轮（不计）p95 {u['warmup_p95_s']} s，各轮 p95 {u['p95_by_round_s']} s",
        f"推送→收到（{p['clients']} 个公共名额流，{p['rounds']} 次名额变化）：p50 {p['p50_s'] * 1000:.0f} ms，"
        f"p95 {p['p95_s'] * 1000:.0f} ms，最慢 {p['max_s'] * 1000:.0f} ms，未收到 {p['missing']} "
        f"{ok(p['p95_s'] <= TARGET['p95_s'] and not p['missing'])} · 负载 {p['load']}",
        f"空闲连接：一个 uvicorn 进程 {i['streams']} 条流，RSS {i['rss_mib']:.0f} MiB（无流时 {i['rss_mib_empty']:.0f} MiB）"
        f"{ok(i['streams'] >= TARGET['idle'] and i['rss_mib'] <= TARGET['rss_mib'])}（目标 ≥ 5000 条、≤ 1 GiB）；"
        f"公共流收到事件 {i['public_streams_answering_an_event']} · 负载 {i['load']}",
        f"招工列表吞吐：开着 {i['streams']} 条流 {b['with_streams']['rps']:.0f} req/s（p99 {b['with_streams']['p99_ms']:.0f} ms，"
        f"负载 {b['with_streams']['load']}），不开 {b['without'][0]['rps']:.0f} / {b['without'][1]['rps']:.0f} req/s"
        f"（p99 {b['without'][0]['p99_ms']:.0f} / {b['without'][1]['p99_ms']:.0f} ms）→ 吞吐比 {b['rps_ratio']}，p99 比 {b['p99_ratio']}；"
        f"期间推送名额事件 {b['trickle_events']} 次，结束时仍开着 {b['streams_still_open_after']} 条",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/gigmarket_bench_live")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--posts", type=int, default=300, help="posts of the small seeded city")
    parser.add_argument("--clients", type=int, default=1000, help="streams timed for the fan-out latency")
    parser.add_argument("--rounds", type=int, default=30, help="measured fan-outs (after one warm-up)")
    parser.add_argument("--idle", type=int, default=5000, help="streams held open on one process")
    parser.add_argument(
        "--trickle", type=float, default=1.0, help="slot events a second during the board run"
    )
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--skip-seed", action="store_true")
    args = parser.parse_args()

    limit = raise_fd_limit()
    if limit < args.idle * 2 + 200:
        sys.exit(
            f"open files limit {limit}: {args.idle} streams need about {args.idle * 2 + 200} (client + server ends)"
        )
    env = jb.bench_env(args.db, args.redis)
    os.environ.update(env)
    wrk_binary = jb.ensure_wrk()
    jb.ensure_database(args.db)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from jobs.models import Post

    call_command("migrate", verbosity=0)
    keys = prepare(args)
    users = list(User.objects.filter(phone__startswith=PREFIX).order_by("pk")[: args.clients])
    post_id = Post.objects.order_by("pk").values_list("pk", flat=True).first()
    connection.close()
    try:  # the clients' loop on libuv too, when installed: less of the measured time is the bench's own
        import uvloop

        out = uvloop.run(measure(args, keys, users, post_id, env, wrk_binary))
        out["client_loop"] = "uvloop"
    except ImportError:
        out = asyncio.run(measure(args, keys, users, post_id, env, wrk_binary))
        out["client_loop"] = "asyncio"
    out["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out["cpus"] = os.cpu_count()
    out["args"] = vars(args)
    text = report(out)
    print("\n" + text)
    (jb.RESULTS / "live_events.json").write_text(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
