"""抢单 rush through HTTP: 1,600 distinct workers released together against the real API.

    .venv/bin/python bench/grab_rush.py                    # 4 × 50 slots, then 40 × 5
    .venv/bin/python bench/grab_rush.py --help

What one run does (everything on 127.0.0.1; PostgreSQL and Redis as for the tests):

1. Creates/migrates ``gigmarket_bench_grab`` (``--db``), loads the demo city (idempotent), makes
   ``--grabbers`` verified seekers (phones 1531…) with an API token each, and empties this bench's Redis
   database (``--redis``, db 13: the cache and the Celery broker).
2. Starts gunicorn as production runs it (``--gunicorn-workers`` sync workers, ``bench.settings``: DEBUG
   off, the full middleware, the Redis cache) on a free port, and a real Celery worker (the follow-on of
   each grab: escrow, policy, contract, messages).
3. For each layout (``--layouts``, default ``4x50,40x5``): publishes insured grab posts (pay and premium
   set aside), opens one connection per grabber at the release instant and sends
   ``POST /api/v1/posts/<id>/claims/`` (each grabber to one post, spread evenly); then the same crowd
   against the bench-only baseline ``POST /bench/grab-baseline/<id>/`` (the guarded slot UPDATE alone,
   behind the same middleware, token auth and throttles) on posts of the same shape.
4. Prints per run: answered within 3 s, the last answer, p50/p95 of confirmed grabs and of all answers,
   confirmed/s (confirmed ÷ time to the last confirmation), oversell (must be 0), and the time until every
   confirmed claim has its order, escrow and policy (the follow-on), how many answers came from the front
   (``X-Grab-Front``: the full mark, or no ticket left), and the CPU seconds of gunicorn, Celery, the
   client and the whole box (every process: PostgreSQL's and other work's too) until the last answer —
   then the posts are cancelled through the service (money back) and ``reconcile_ledger`` must pass.
   Load average before and after. ``--no-tickets`` runs the front without its ticket counter.

Bounded: each release waits at most ``--timeout`` seconds for answers and ``--followon-timeout`` for the
follow-on. Results: ``bench/results/grab_rush-latest.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import jobs_board as jb  # noqa: E402

TITLE = "【抢单压测】"
PHONE_PREFIX = "1531"  # 153 1 + 7 digits: this bench's seekers
RESULTS = ROOT / "bench" / "results"
WARM_UP = 32  # grabs per endpoint before its release: several for each gunicorn worker
TARGETS = {"answered_s": 3.0, "p95_ms": 500.0, "confirmed_per_s": 200.0, "followon_s": 10.0}


def percentile(values: list[float], pct: float) -> float:
    return jb.percentile(values, pct) if values else float("nan")


# -------------------------------------------------------------------------------------------- world


def grabbers(count: int) -> list[tuple[int, str]]:
    """``count`` verified seekers with a fresh API token each: [(user id, token)]."""
    from knox.models import AuthToken

    users = jb.verified_seekers(
        prefix=PHONE_PREFIX, count=count, name="抢单工", region="350182", born=dt.date(1980, 1, 1)
    )
    AuthToken.objects.filter(user__in=users).delete()
    return [(u.pk, AuthToken.objects.create(user=u)[1]) for u in users]


def owner():
    from accounts.models import EmployerMember
    from demo import demo_data as D

    phone = next(e.owner_phone for e in D.EMPLOYERS if e.key == D.DEMO_EMPLOYER)
    return EmployerMember.objects.select_related("employer", "user").get(user__phone=phone, role="owner")


def clean_posts(actor) -> None:
    from jobs import services
    from jobs.models import Post

    for post in Post.objects.filter(title__startswith=TITLE, status__in=["open", "filled"]):
        services.post_cancel(post=post, actor=actor, reason="压测结束")


def publish(member, n_posts: int, slots: int, label: str, start: dt.datetime) -> list:
    from jobs import money, services
    from jobs.models import Post, Trade
    from wallet import ledger
    from wallet import services as wallet

    trade = Trade.objects.get(name="搬运")
    sample = Post(trade=trade, pay_fen=20000, quantity=1, insurance_required=True)
    needed = sum(money.per_order_cost(sample)) * slots * n_posts
    balance = ledger.employer_account(member.employer).balance_fen
    if balance < needed:
        wallet.employer_credit(
            employer=member.employer, amount_fen=needed - balance, key=f"bench-grab:{time.time_ns()}",
            memo="压测充值",
        )  # fmt: skip
    return [
        services.post_create(
            employer=member.employer,
            actor=member.user,
            publish=True,
            trade=trade,
            title=f"{TITLE}{label}{n + 1}",
            description="压测用岗位，测完即取消",
            pay_fen=20000,
            pay_unit="day",
            slots=slots,
            area=member.employer.area,
            address="压测地址",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=8),
            mode="grab",
            insurance_required=True,
            contact_name=member.user.name,
            contact_phone=member.user.phone,
        )
        for n in range(n_posts)
    ]


# ------------------------------------------------------------------------------------------- client


def _request(path: str, token: str) -> bytes:
    body = b'{"note": ""}'
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head + body


FRONT = b"\r\nx-grab-front: "  # the answer came from the front (jobs/grab_front.py): full mark or no ticket


async def _one(port: int, request: bytes, go: asyncio.Event, timeout: float, preopen: bool):
    """(status, answered at, the front's X-Grab-Front or ""). The request is built beforehand; with ``preopen`` the
    connection is made before the release too (as a phone's, kept alive by the proxy), so the client
    spends the rush only writing one buffer and reading one answer."""
    conn = None
    if preopen:
        try:
            conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        except (OSError, TimeoutError):
            conn = None
    await go.wait()
    front = ""
    try:
        if conn is None:
            conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        reader, writer = conn
        writer.write(request)
        data = await asyncio.wait_for(reader.read(), timeout)  # the server closes after its answer
        writer.close()
        status = int(data[9:12]) if data.startswith(b"HTTP/1.") else 0
        head = data[: data.find(b"\r\n\r\n")].lower()
        at = head.find(FRONT)
        front = head[at + len(FRONT) :].split(b"\r\n", 1)[0].decode() if at >= 0 else ""
    except TimeoutError:
        status = -1  # no answer within the client's timeout
    except (OSError, ValueError):
        status = 0  # connection refused or reset, or no status line
    return status, time.monotonic(), front


async def _release(port: int, requests: list[bytes], timeout: float, preopen: bool):
    go = asyncio.Event()
    tasks = [asyncio.create_task(_one(port, r, go, timeout, preopen)) for r in requests]
    await asyncio.sleep(0.5 + (len(requests) / 1000 if preopen else 0))  # all parked (and connected)
    released, cpu = time.monotonic(), time.process_time()
    go.set()
    results = await asyncio.gather(*tasks)
    return released, time.process_time() - cpu, results


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes and their children."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            procs = [psutil.Process(pid)]
            procs += procs[0].children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return total


def _box_busy() -> float:
    """CPU seconds every process of the box has used so far (all cores, idle and I/O wait excluded)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def rush(port: int, calls: list[tuple[str, str]], timeout: float, preopen: bool, servers: dict) -> dict:
    requests = [_request(path, token) for path, token in calls]
    server_cpu = {name: _tree_cpu(pids) for name, pids in servers.items()}
    box_before = _box_busy()
    released, client_cpu, results = asyncio.run(_release(port, requests, timeout, preopen))
    box = _box_busy() - box_before
    lat = [(status, (at - released) * 1000) for status, at, _ in results]
    ok = [ms for status, ms in lat if status == 201 or status == 200]
    answered = [ms for status, ms in lat if status > 0]
    counts: dict[str, int] = {}
    for status, _ in lat:
        counts[str(status)] = counts.get(str(status), 0) + 1
    last_ok = max(ok) / 1000 if ok else float("nan")
    window = max(answered) / 1000 if answered else float("nan")
    cpu = {name: _tree_cpu(pids) - server_cpu[name] for name, pids in servers.items()}
    cpu["client"] = client_cpu
    cpu["whole box"] = box
    return {
        "released_at": released,
        "attempts": len(calls),
        "statuses": counts,
        "front": sum(1 for *_, front in results if front),
        "front_tickets": sum(1 for *_, front in results if front == "tickets"),
        "confirmed": len(ok),
        "answered_3s": sum(1 for ms in answered if ms <= 3000),
        "last_answer_s": window,
        "last_ok_s": last_ok,
        "ok_p50_ms": statistics.median(ok) if ok else float("nan"),
        "ok_p95_ms": percentile(ok, 95),
        "all_p50_ms": statistics.median(answered) if answered else float("nan"),
        "all_p95_ms": percentile(answered, 95),
        "confirmed_per_s": len(ok) / last_ok if ok else 0.0,
        "cpu_s": cpu,
        "load": " ".join(f"{v:.1f}" for v in os.getloadavg()),
    }


# ---------------------------------------------------------------------------------------- follow-on


def followon_state(post_ids: list[int]) -> dict:
    """Confirmed claims of these posts, and how many have their order, escrow funded and policy."""
    from insurance.models import Policy
    from jobs.models import Claim, Order
    from wallet.models import LedgerTransaction

    confirmed = Claim.objects.filter(post_id__in=post_ids, status=Claim.Status.CONFIRMED).count()
    orders = Order.objects.filter(post_id__in=post_ids)
    funded = LedgerTransaction.objects.filter(
        order__post_id__in=post_ids, kind=LedgerTransaction.Kind.ESCROW_FUND
    ).count()
    policies = Policy.objects.filter(order__post_id__in=post_ids).count()
    return {"confirmed": confirmed, "orders": orders.count(), "funded": funded, "policies": policies}


def wait_followon(post_ids: list[int], released_at: float, timeout: float) -> tuple[float, dict]:
    deadline = time.monotonic() + timeout
    while True:
        state = followon_state(post_ids)
        done = state["confirmed"] == state["orders"] == state["funded"] == state["policies"]
        if done or time.monotonic() > deadline:
            return (time.monotonic() - released_at if done else float("nan")), state
        time.sleep(0.2)


def oversold(post_ids: list[int]) -> int:
    from jobs.models import Claim, Post

    over = 0
    for post in Post.objects.filter(pk__in=post_ids):
        taken = Claim.objects.filter(post=post, status=Claim.Status.CONFIRMED).count()
        over += max(0, taken - post.slots) + (1 if post.slots_left < 0 else 0)
    return over


# --------------------------------------------------------------------------------------------- main


def start_celery(env: dict, log: Path, concurrency: int, nice: int = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [*(["nice", "-n", str(nice)] if nice else []), sys.executable, "-m", "celery", "-A", "gigmarket", "worker", "-c", str(concurrency), "-P", "prefork",
         "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env={**os.environ, **env}, start_new_session=True, stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def settle(
    servers: dict, limit: float, *, quiet_cpu: float = 0.05, step: float = 0.5, steps: int = 4
) -> float:
    """Seconds until gunicorn and Celery together used under ``quiet_cpu`` CPU seconds in each of ``steps``
    steps of ``step`` seconds in a row (at most ``limit``): longer than the follow-on's delay, so a task
    still waiting for its countdown is not mistaken for a quiet box."""
    started = time.monotonic()
    pids = [pid for group in servers.values() for pid in group]
    before, quiet = _tree_cpu(pids), 0
    while True:
        time.sleep(step)
        now = _tree_cpu(pids)
        quiet = quiet + 1 if now - before < quiet_cpu else 0
        if quiet >= steps or time.monotonic() - started >= limit:
            return time.monotonic() - started
        before = now


def drain(port: int, limit: float = 600.0) -> float:
    """Seconds until the server is idle again. A request the client gave up on (``--timeout``) is still in
    gunicorn's queue and will be served: the next release must not start behind it."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        asked = time.monotonic()
        try:
            if jb.get(port, "/healthz")[0] == 200 and time.monotonic() - asked < 0.5:
                break
        except OSError:
            pass
        time.sleep(0.5)
    return time.monotonic() - started


def run_layout(args, port: int, member, tokens, n_posts: int, slots: int, offset: int, servers: dict) -> dict:
    from django.db import connections
    from django.utils import timezone

    start = timezone.now() + dt.timedelta(days=40 + offset)
    out = {"layout": f"{n_posts} × {slots}"}
    paths = {
        "baseline": "/bench/grab-baseline/{}/",
        "legacy": "/bench/grab-legacy/{}/",
        "grab": "/api/v1/posts/{}/claims/",
    }
    for n, kind in enumerate(args.endpoints.split(",")):
        posts = publish(member, n_posts, slots, f"{kind}{n_posts}x{slots}-", start + dt.timedelta(days=n))
        ids = [p.pk for p in posts]
        path = paths[kind]
        calls = [(path.format(ids[i % n_posts]), token) for i, (_, token) in enumerate(tokens)]
        # Warm every gunicorn worker on this endpoint first, as a morning's traffic has by 7:00: a worker's
        # first grab compiles the serializers and statements (tens of ms) and would land in the rush. Real
        # grabs, by the last grabbers, on a post of another day (no overlap with the measured ones).
        (warm,) = publish(member, 1, WARM_UP, f"{kind}-warm-", start + dt.timedelta(days=20 + n))
        rush(
            port,
            [(path.format(warm.pk), token) for _, token in tokens[-WARM_UP:]],
            args.timeout,
            True,
            servers,
        )
        connections.close_all()
        # The publish's own work (the pushes of 活找人, in Celery) must be over before the release, or it
        # competes with that release alone: the box quiet for a moment (--settle-timeout at most).
        out.setdefault("settled_s", {})[kind] = settle(servers, args.settle_timeout)
        result = rush(port, calls, args.timeout, not args.no_preopen, servers)
        result["drained_s"] = drain(port)
        result["oversold"] = oversold(ids)
        if kind != "baseline":
            # from the release; the report also shows it after the last confirmation was answered
            result["followon_s"], result["followon"] = wait_followon(
                ids, result["released_at"], args.followon_timeout
            )
        out[kind] = result
        clean_posts(member.user)
    return out


def report(results: dict) -> str:
    load = results["load"]
    lines = [
        f"抢单 rush — {results['at']}; grabbers {results['grabbers']}; gunicorn {results['gunicorn']}; "
        f"celery {results['celery_concurrency']} processes; client: {results['client']}",
        f"load average before {load['before']}, after {load['after']} (2 cores shared with other work)",
        f"targets: every grabber answered ≤ {TARGETS['answered_s']:.0f} s, confirmed p95 ≤ "
        f"{TARGETS['p95_ms']:.0f} ms, ≥ {TARGETS['confirmed_per_s']:.0f} confirmed/s, 0 oversell, "
        f"follow-on ≤ {TARGETS['followon_s']:.0f} s",
        "",
        f"{'layout':<9} {'endpoint':<9} {'conf':>5} {'≤3s':>6} {'last s':>7} {'ok p50':>7} {'ok p95':>7} "
        f"{'all p50':>8} {'all p95':>8} {'conf/s':>7} {'over':>5} {'front':>6} {'(tkt)':>4} "
        f"{'follow-on s (after last ok)':>28}"
        f"  statuses",
    ]
    for run in results["runs"]:
        for kind in [k for k in ("baseline", "legacy", "grab") if k in run]:
            r = run[kind]
            fo = r.get("followon_s")
            lag = (fo - r["last_ok_s"]) if fo is not None else None
            fo_text = (
                "—" if fo is None else f"{fo:.1f} (+{lag:.1f})" if fo == fo else f"NOT DONE {r['followon']}"
            )
            lines.append(
                f"{run['layout']:<9} {kind:<9} {r['confirmed']:>5} {r['answered_3s']:>6} {r['last_answer_s']:>7.2f} "
                f"{r['ok_p50_ms']:>7.0f} {r['ok_p95_ms']:>7.0f} {r['all_p50_ms']:>8.0f} {r['all_p95_ms']:>8.0f} "
                f"{r['confirmed_per_s']:>7.0f} {r['oversold']:>5} {r['front']:>6} {r.get('front_tickets', 0):>4} "
                f"{fo_text:>28}  "
                f"{json.dumps(r['statuses'])}"
                + (
                    f"  (queue drained {r['drained_s']:.0f} s after the client gave up)"
                    if r["drained_s"] > 2
                    else ""
                )
            )
        for kind in [k for k in ("baseline", "legacy", "grab") if k in run]:
            r = run[kind]
            window = r["last_answer_s"]
            cpu = r["cpu_s"]
            share = (
                {name: used / (window * 2) * 100 for name, used in cpu.items()} if window == window else {}
            )
            lines.append(
                f"{'':<9} {kind} CPU s until the last answer (% of 2 cores): "
                + ", ".join(f"{name} {used:.1f} ({share.get(name, 0):.0f}%)" for name, used in cpu.items())
                + f"; load {r['load']}"
                + (
                    f"; released once quiet ({run['settled_s'][kind]:.1f} s after publishing)"
                    if kind in run.get("settled_s", {})
                    else ""
                )
            )
        b = run.get("baseline")
        for kind in [k for k in ("legacy", "grab") if k in run and b]:
            g = run[kind]
            lines.append(
                f"{'':<9} {kind} ÷ baseline: last answer {g['last_answer_s'] / b['last_answer_s']:.2f}×, "
                f"all p95 {g['all_p95_ms'] / b['all_p95_ms']:.2f}×, confirmed/s "
                f"{g['confirmed_per_s'] / max(b['confirmed_per_s'], 1e-9):.2f}×"
            )
    lines.append(f"reconcile_ledger after the run: {results['reconcile']}")
    return "\n".join(lines)


def start_gunicorn(args, env: dict, port: int) -> subprocess.Popen:
    """gunicorn with production's own settings file (gigmarket/gunicorn_conf.py); only the address, the
    logs and what the command line asks for differ."""
    log = RESULTS / "grab_rush-gunicorn.log"
    cmd = [jb.GUNICORN, "gigmarket.wsgi:application", "-c", str(ROOT / "gigmarket" / "gunicorn_conf.py"),
           "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log), "--log-level", "warning",
           "--access-logfile", str(RESULTS / "grab_rush-access.log")]  # fmt: skip
    if args.gunicorn_workers:
        cmd += ["--workers", str(args.gunicorn_workers)]
    if args.gunicorn_threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(args.gunicorn_threads)]
    output = (RESULTS / "grab_rush-web.log").open("w")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True, stdout=output, stderr=output
    )
    deadline = time.monotonic() + args.startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}; see {log}")
        try:
            if jb.get(port, "/healthz")[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    sys.exit(f"gunicorn did not answer /healthz within {args.startup_timeout} s; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--grabbers", type=int, default=1600)
    parser.add_argument("--layouts", default="4x50,40x5", help="posts x slots, comma-separated")
    parser.add_argument(
        "--gunicorn-workers", type=int, default=0, help="0: production's (gigmarket/gunicorn_conf.py)"
    )
    parser.add_argument("--gunicorn-threads", type=int, default=1, help=">1: gthread workers instead")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument(
        "--celery-nice",
        type=int,
        default=0,
        help="the worker's CPU niceness (docker-compose.yml's: see there)",
    )
    parser.add_argument(
        "--startup-timeout", type=float, default=120, help="seconds gunicorn may take to start"
    )
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/gigmarket_bench_grab")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one request may take")
    parser.add_argument("--followon-timeout", type=float, default=40.0)
    parser.add_argument(
        "--settle-timeout", type=float, default=60.0, help="seconds to wait for the publish's pushes to end"
    )
    parser.add_argument(
        "--no-preopen", action="store_true", help="connect at the release instead of just before it"
    )
    parser.add_argument(
        "--no-tickets", action="store_true", help="the front without its ticket counter (GRAB_TICKETS off)"
    )
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument(
        "--endpoints",
        default="baseline,grab",
        help="baseline (guarded UPDATE only), legacy (the old one-transaction 抢单), grab (the API's 抢单)",
    )
    args = parser.parse_args()

    jb.ensure_database(args.db)
    env = {
        **jb.bench_env(args.db, args.redis),
        "GIGMARKET_CELERY_EAGER": "false",
        "GIGMARKET_BENCH_GRAB_TICKETS": "0" if args.no_tickets else "1",
    }
    os.environ.update(env)
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(args.redis).flushdb()
    print("迁移数据库、载入示范城市 …", flush=True)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", no_progress=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    member = owner()
    clean_posts(member.user)
    print(f"准备 {args.grabbers} 个实名求职者及其令牌 …", flush=True)
    tokens = grabbers(args.grabbers)
    from django.db import connection

    # As autovacuum keeps a live database: fresh statistics (the 1,600 seekers and tokens just made would
    # otherwise be planned as none) and their rows' hint bits set, which the first rush would otherwise do.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    RESULTS.mkdir(exist_ok=True)
    port = jb.free_port()
    web = start_gunicorn(args, env, port)
    worker = start_celery(env, RESULTS / "grab_rush-celery.log", args.celery_concurrency, args.celery_nice)
    servers = {"gunicorn": [web.pid], "celery": [worker.pid]}
    load_before = " ".join(f"{v:.1f}" for v in os.getloadavg())
    runs = []
    try:
        for offset, layout in enumerate(args.layouts.split(",")):
            n_posts, slots = (int(v) for v in layout.split("x"))
            print(f"放号：{args.grabbers} 人抢 {n_posts} 个岗位 × {slots} 个名额 …", flush=True)
            runs.append(run_layout(args, port, member, tokens, n_posts, slots, offset, servers))
    finally:
        stop(web)
        stop(worker)
    out = call_command_output("reconcile_ledger")
    workers = args.gunicorn_workers or "4 (conf)"
    results = {
        "at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "grabbers": args.grabbers,
        "gunicorn": f"{workers} workers × {args.gunicorn_threads} thread(s), gigmarket/gunicorn_conf.py"
        + ("; front WITHOUT tickets" if args.no_tickets else "; front with tickets"),
        "celery_concurrency": args.celery_concurrency,
        "client": "connections opened at the release" if args.no_preopen else "connections opened before",
        "load": {"before": load_before, "after": " ".join(f"{v:.1f}" for v in os.getloadavg())},
        "runs": runs,
        "reconcile": out,
    }
    text = report(results)
    print(text)
    (RESULTS / "grab_rush-latest.txt").write_text(text + "\n")
    if args.drop:
        from django.db import connections

        connections.close_all()
        jb_drop(args.db)


def call_command_output(name: str) -> str:
    from io import StringIO

    from django.core.management import call_command

    buffer = StringIO()
    try:
        call_command(name, stdout=buffer, stderr=buffer)
        return "ok " + buffer.getvalue().strip().splitlines()[-1] if buffer.getvalue().strip() else "ok"
    except SystemExit as exc:
        return f"FAILED (exit {exc.code}): {buffer.getvalue().strip()[-300:]}"


def jb_drop(db_url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2

    parts = urlsplit(db_url)
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
    conn.close()


if __name__ == "__main__":
    main()
