"""Job board benchmark: the public board API against a bare Django view, keyword search, and 抢单 under
contention, on a PostgreSQL database holding 100k posts and 200k workers.

    .venv/bin/python bench/jobs_board.py            # seeds gigmarket_bench on the first run, reuses it after

One run:

1. creates and migrates the database ``gigmarket_bench`` (``--db``) if needed and runs ``seed_demo`` with
   ``--workers/--employers/--posts`` (idempotent: a seeded database is only topped up, stale posts moved);
2. starts gunicorn on 127.0.0.1 with ``bench.settings`` (production settings, DEBUG off) and drives, with
   wrk at 32 connections, (a) ``GET /api/v1/posts/?…`` — a page of 20 under a mix of filters — and (b)
   ``/bench/bare``, a bare ``JsonResponse`` behind the same middleware, printing req/s, p50/p99 and the
   ratio; then each filter on its own;
3. times keyword search through ``jobs.selectors.board`` for 1-, 2- and 3-character words (p50/p95) and
   prints each one's ``EXPLAIN (ANALYZE, BUFFERS)``, checking that the GIN index is used;
4. measures claims/s under contention: many threads, each with its own connection, calling
   ``jobs.services.claim_create`` on a few grab posts, and checks that no post is overbooked.

The report is printed and written to ``bench/results/`` (git-ignored). Traffic goes to 127.0.0.1 only;
every load run is bounded in time.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
TARGET = {"ratio": 0.5, "p99_ms": 50.0, "varied_ratio": 0.25, "varied_p99_ms": 150.0}
SEARCH_WORDS = {
    1: ("焊", "漆", "茶", "搬"),
    2: ("保洁", "瓦工", "搬运", "采摘"),
    3: ("水电工", "钢结构", "叉车工", "月嫂住"),
}
CLAIM_TITLE = "【压测】抢单"
BOARD_MIX = "招工列表 API（混合筛选，每页20条）"
BARE = "裸 JsonResponse"
UNCACHED = "招工列表 API，不走页面缓存（每次查库）"
BARE_AFTER = "裸 JsonResponse（测完再测）"
VARIED = "招工列表 API，各不相同（位置/筛选/排序/深翻页，缓存不命中）"
VARIED_UNCACHED = "  同上，不走页面缓存的路由"
CACHE_HEADER = "X-Board-Cache"
DEPTHS = (0, 20_000, 60_000, 90_000)
PARTS = ("http", "breakdown", "deep", "keyword", "claims")
SOLO_CLAIMS = 30  # claims made one at a time before the race, for the uncontended service time
CLAIMER_PREFIX = "1530"  # verified seekers made for the claim measurement: 153 0 + 7 digits


# -------------------------------------------------------------------------------------- environment


def bench_env(db_url: str, redis_url: str) -> dict[str, str]:
    """Throwaway secrets, fixed so a reused database decrypts what an earlier run encrypted."""
    key = base64.urlsafe_b64encode(hashlib.sha256(b"gigmarket-bench-fields").digest()).decode()
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "GIGMARKET_DATABASE_URL": db_url,
        "GIGMARKET_REDIS_URL": redis_url,
        "GIGMARKET_SECRET_KEY": "bench-only-" + hashlib.sha256(b"gigmarket-bench-secret").hexdigest(),
        "GIGMARKET_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GIGMARKET_FIELD_ENCRYPTION_KEYS": key,
        "GIGMARKET_BLIND_INDEX_KEY": "bench-blind-index",
        "GIGMARKET_DEBUG": "false",
        "GIGMARKET_SMS_BACKEND": "outbox",
        "GIGMARKET_IDENTITY_VERIFIER": "manual",
        "GIGMARKET_BENCH_CACHE_PREFIX": urlsplit(db_url).path.lstrip("/"),
    }


def ensure_database(db_url: str) -> None:
    import psycopg2

    parts = urlsplit(db_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"database name {name!r}: use lower-case letters, digits and _")
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            print(f"创建数据库 {name}")
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk 未安装，正在用 apt-get 安装 …")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
        if not found:
            subprocess.run(["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
            found = shutil.which("wrk")
    if not found:
        sys.exit(
            "The load tool wrk is missing: install it (Debian/Ubuntu: apt-get install -y wrk) and rerun."
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------- seeding


def seed(args) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command(
        "seed_demo",
        workers=args.workers,
        employers=args.employers,
        posts=args.posts,
        batch_size=5000,
        no_progress=not sys.stderr.isatty(),
        stdout=sys.stdout,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh planner statistics and visibility maps for every table
    return {"seconds": time.monotonic() - started}


def data_summary() -> dict[str, int]:
    from django.utils import timezone

    from accounts.models import User
    from jobs.models import Post

    return {
        "posts": Post.objects.count(),
        "open_posts": Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=timezone.now()).count(),
        "workers": User.objects.filter(role=User.Role.SEEKER).count(),
    }


# ------------------------------------------------------------------------------------------- serving


def board_paths() -> dict[str, str]:
    """Filtered board queries a worker's phone sends, built from the seeded city."""
    from accounts.models import Area
    from demo import demo_data as D
    from jobs.models import Trade

    trades = dict(Trade.objects.values_list("name", "pk"))
    town = Area.objects.get(code=D.town_area_code(D.TOWNS[0]))
    district = Area.objects.get(code=f"{D.COUNTY_CODE}000000")
    lat, lng = (float(v) for v in D.CENTER)
    day = (dt.date.today() + dt.timedelta(days=3)).isoformat()

    def url(**params) -> str:
        return "/api/v1/posts/?" + urlencode(params, doseq=True)

    return {
        "工种+排序(最新)": url(trade=[trades["保洁"], trades["开荒保洁"]], sort="newest"),
        "街道+计价单位": url(area=town.pk, pay_unit="day"),
        "最低报酬+按报酬": url(pay_min=20000, sort="pay"),
        "附近5公里+最近": url(lat=lat, lng=lng, radius_km=5, sort="nearest"),
        "关键词“保洁”": url(q="保洁"),
        "工种+区县+日期": url(trade=trades["瓦工"], area=district.pk, date=day),
    }


class Cursors:
    """Real cursors at any depth of the three sorts, read once from the database (as a visitor who paged
    that far would hold them), so deep pages can be requested directly."""

    def __init__(self, positions: list[tuple[float, float]]):
        from django.db import connection
        from django.utils import timezone

        from jobs.selectors import distance_expression

        now = timezone.now()
        with connection.cursor() as cursor:
            base = "FROM jobs_post WHERE status = 'open' AND starts_at > %s"
            cursor.execute(f"SELECT published_at, id {base} ORDER BY published_at DESC, id DESC", [now])
            self.newest = [[p.isoformat(), pk] for p, pk in cursor.fetchall()]
            cursor.execute(f"SELECT pay_fen, id {base} ORDER BY pay_fen DESC, id DESC", [now])
            self.pay = [list(row) for row in cursor.fetchall()]
        from jobs.models import Post

        self.nearest = {}
        for lat, lng in positions:
            rows = (
                Post.objects.filter(status="open", starts_at__gt=now, lat__isnull=False)
                .annotate(dist=distance_expression(lat, lng))
                .order_by("dist", "id")
                .values_list("dist", "id")
            )
            self.nearest[(lat, lng)] = [list(r) for r in rows]

    @staticmethod
    def encode(values) -> str:
        from jobs.selectors import _encode

        return _encode(values)

    def at(self, sort: str, depth: int, position=None) -> str:
        rows = self.nearest[position] if sort == "nearest" else getattr(self, sort)
        return self.encode(rows[min(depth, len(rows)) - 1]) if depth and rows else ""


def deep_positions() -> list[tuple[float, float]]:
    """The city centre (the deep-page timing starts there) and four streets' places: positions whose
    nearest-first cursors at every depth the varied rows use."""
    from accounts.models import Area
    from demo import demo_data as D

    streets = Area.objects.filter(level=Area.Level.STREET).exclude(lat=None).order_by("code")[:4]
    return [tuple(float(v) for v in D.CENTER), *((float(a.lat), float(a.lng)) for a in streets)]


def varied_paths(count: int, seed: int, cursors: Cursors, prefix: str = "/api/v1/posts/") -> list[str]:
    """``count`` distinct board requests of the kinds real phones send: each with its own position (spread
    over the city, around its streets and villages), filter, sort and often a deep cursor, so that no two
    share a page-cache entry."""
    import random

    from accounts.models import Area
    from jobs.models import Trade

    rng = random.Random(seed)
    trades = list(Trade.objects.values_list("pk", flat=True))
    streets = list(Area.objects.filter(level=Area.Level.STREET).values_list("pk", flat=True))
    places = [(float(a), float(b)) for a, b in Area.objects.exclude(lat=None).values_list("lat", "lng")]
    words = [w for group in SEARCH_WORDS.values() for w in group]
    days = [(dt.date.today() + dt.timedelta(days=d)).isoformat() for d in range(1, 15)]
    paths: set[str] = set()
    while len(paths) < count:
        params: dict = {}
        kind = rng.random()
        if kind < 0.4:  # nearest, from where the phone is: anywhere around a street or village
            lat, lng = rng.choice(places)
            params.update(
                lat=round(lat + rng.uniform(-0.02, 0.02), 6), lng=round(lng + rng.uniform(-0.02, 0.02), 6)
            )
            params["sort"] = "nearest"
            if rng.random() < 0.5:
                params["radius_km"] = rng.choice((3, 5, 10, 20))
            if rng.random() < 0.3:
                params["trade"] = rng.sample(trades, rng.choice((1, 2)))
            if rng.random() < 0.3:  # a deep page of a known position
                position = rng.choice(list(cursors.nearest))
                params.update(lat=position[0], lng=position[1])
                params.pop("radius_km", None)
                params["cursor"] = cursors.at(
                    "nearest", rng.randrange(1, len(cursors.nearest[position])), position
                )
        else:
            params["sort"] = rng.choice(("newest", "pay"))
            pick = rng.random()
            if pick < 0.25:
                params["trade"] = rng.sample(trades, rng.choice((1, 2)))
            elif pick < 0.4:
                params["area"] = rng.choice(streets)
                if rng.random() < 0.5:
                    params["pay_unit"] = rng.choice(("day", "hour", "piece"))
            elif pick < 0.5:
                params["pay_min"] = rng.choice((10000, 15000, 20000, 30000)) + rng.randrange(0, 100) * 100
            elif pick < 0.6:
                params["date"] = rng.choice(days)
            elif pick < 0.75:
                params["q"] = rng.choice(words)
            if not params.keys() - {"sort"} or rng.random() < 0.3:  # no filter: any depth of the whole board
                params["cursor"] = cursors.at(
                    params["sort"], rng.randrange(1, len(getattr(cursors, params["sort"])))
                )
        paths.add(prefix + "?" + urlencode(params, doseq=True))
    return sorted(paths, key=lambda _: rng.random())


def statement_costs(statements: list[str]) -> dict:
    """What a page's statements cost PostgreSQL, independent of the box's load: shared buffers touched
    (hit + read) and planning + execution time, summed over the statements (EXPLAIN (ANALYZE, BUFFERS))."""
    from django.db import connection

    buffers, ms = 0, 0.0
    with connection.cursor() as cursor:
        for sql in statements:
            times = []
            for _ in range(3):  # the median of three: one run on a busy box can be descheduled
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                times.append(plan.get("Execution Time", 0.0) + plan.get("Planning Time", 0.0))
            top = plan["Plan"]
            buffers += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            ms += statistics.median(times)
    return {"buffers": buffers, "sql_ms": ms, "statements": len(statements)}


def deep_pages(cursors: Cursors, position, runs: int) -> list[dict]:
    """One page of 20 through ``jobs.selectors.board`` at rows 0, 20k, 60k, 90k of each sort (in-process,
    p50 of ``runs``, the depths taken in turn so a drifting load spreads over all of them), what its
    statements cost PostgreSQL (buffers and execution time: load-independent), and the plan of the
    deepest page's costliest statement (an Index Cond with the row comparison, or the cell runs)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs.selectors import BoardQuery, board

    out = []
    for sort in ("newest", "pay", "nearest"):
        row = {"sort": sort, "ms": {}, "cost": {}, "plan": ""}
        queries = {}
        for depth in DEPTHS:
            queries[depth] = BoardQuery(sort=sort, cursor=cursors.at(sort, depth, position))
            if sort == "nearest":
                queries[depth].lat, queries[depth].lng = position
            board(queries[depth], rows=True)
        timings: dict[int, list[float]] = {depth: [] for depth in DEPTHS}
        for _ in range(runs):
            for depth in DEPTHS:
                began = time.perf_counter()
                board(queries[depth], rows=True)
                timings[depth].append((time.perf_counter() - began) * 1000)
        for depth in DEPTHS:
            row["ms"][depth] = statistics.median(timings[depth])
            with CaptureQueriesContext(connection) as captured:
                board(queries[depth], rows=True)
            statements = [q["sql"] for q in captured.captured_queries]
            row["cost"][depth] = statement_costs(statements)
        costliest = max(statements, key=lambda sql: statement_costs([sql])["buffers"])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + costliest)
            row["plan"] = "\n".join(r[0] for r in cursor.fetchall())
        out.append(row)
    return out


def start_gunicorn(args, env: dict[str, str], port: int, log: Path, output=None) -> subprocess.Popen:
    cmd = [
        GUNICORN,
        "gigmarket.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.gunicorn_workers),
        "--threads",
        str(args.gunicorn_threads),
        "--worker-class",
        "gthread" if args.gunicorn_threads > 1 else "sync",
        "--keep-alive",
        "5",
        "--backlog",
        str(getattr(args, "backlog", 256)),
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True, stdout=output, stderr=output
    )
    wait = getattr(args, "startup_timeout", 120)  # a busy shared box starts three workers slowly
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}; see {log}")
        try:
            status, _ = get(port, "/healthz")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    sys.exit(f"gunicorn did not answer /healthz within {wait} s; see {log}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def get(port: int, path: str) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(binary: str, port: int, paths: list[str], *, seconds: int, connections: int, threads: int) -> dict:
    """One bounded wrk run over ``paths`` (round-robin through a Lua script when there are several)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        quoted = ", ".join(json.dumps(p) for p in paths)
        script.write(
            f"local paths = {{{quoted}}}\n"
            "local i = 0\n"
            "local threads = {}\n"
            'wrk.headers["X-Forwarded-Proto"] = "https"\n'
            "function setup(thread) table.insert(threads, thread) end\n"
            "function init(args) hits = 0; misses = 0 end\n"
            "request = function()\n"
            "  i = i % #paths + 1\n"
            '  return wrk.format("GET", paths[i])\n'
            "end\n"
            # The board answers X-Board-Cache: hit | miss (jobs/api.py); other routes answer neither.
            "function response(status, headers, body)\n"
            f'  local c = headers["{CACHE_HEADER}"]\n'
            '  if c == "hit" then hits = hits + 1 elseif c == "miss" then misses = misses + 1 end\n'
            "end\n"
            "function done(summary, latency, requests)\n"
            "  local h, m = 0, 0\n"
            '  for _, t in ipairs(threads) do h = h + t:get("hits"); m = m + t:get("misses") end\n'
            '  io.write(string.format("CACHE %d %d\\nP95US %d\\n", h, m, latency:percentile(95)))\n'
            "end\n"
        )
    cmd = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    cmd += ["-s", script.name, f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    os.unlink(script.name)
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M))
    if "99" not in latency:
        sys.exit(f"wrk printed no latency distribution:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    timeouts = re.search(r"timeout (\d+)", socket_errors.group(1)) if socket_errors else None
    cached = re.search(r"^CACHE (\d+) (\d+)$", out, re.M)
    hits, misses = (int(cached.group(1)), int(cached.group(2))) if cached else (0, 0)
    p95 = re.search(r"^P95US (\d+)$", out, re.M)
    return {
        "hit_rate": hits / (hits + misses) if hits + misses else None,
        "p95_ms": int(p95.group(1)) / 1000 if p95 else float("nan"),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": _ms(latency["50"]),
        "p90_ms": _ms(latency["90"]),
        "p99_ms": _ms(latency["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


# ----------------------------------------------------------------------------------------- breakdown


def breakdown(paths: dict[str, str], runs: int = 200) -> list[list[str]]:
    """Where one request's time goes, in-process and single-threaded: the whole request through Django
    (middleware, DRF, selector, rendering), the selector alone, and its SQL alone."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jobs.selectors import BoardQuery, board

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    path = paths["工种+排序(最新)"]
    params = dict(re.findall(r"(\w+)=(\w+)", path.split("?", 1)[1]))
    trade_ids = [int(v) for v in re.findall(r"trade=(\d+)", path)]
    query = BoardQuery(trade_ids=trade_ids, sort=params.get("sort", "newest"))
    with CaptureQueriesContext(connection) as captured:
        board(query, rows=True)
    statements = [q["sql"] for q in captured.captured_queries]  # the page's ids, then its rows

    def raw():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    uncached = path.replace("/api/v1/posts/", "/bench/board-uncached/")
    steps = [
        ("裸视图：整个请求", lambda: client.get("/bench/bare")),
        ("招工列表：整个请求（页面缓存命中）", lambda: client.get(path)),
        ("招工列表：整个请求（不走页面缓存）", lambda: client.get(uncached)),
        ("  其中 selectors.board()", lambda: board(query, rows=True)),
        (f"  其中 SQL（psycopg2 直接执行，{len(statements)} 条）", raw),
    ]
    rows = []
    for label, fn in steps:
        for _ in range(20):
            fn()
        timings = []
        for _ in range(runs):
            began = time.perf_counter()
            fn()
            timings.append((time.perf_counter() - began) * 1000)
        rows.append([label, f"{statistics.median(timings):.2f}", f"{percentile(timings, 95):.2f}"])
    connection.close()
    return rows


# -------------------------------------------------------------------------------------------- search


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def access_path(plan: str) -> str:
    """How the plan reads jobs_post: the GIN keyword index, a b-tree index, or a sequential scan."""
    if "jobs_post_search_vector_gin" in plan:
        return "GIN jobs_post_search_vector_gin"
    found = re.search(r"Index Scan(?: Backward)? using (\w+) on jobs_post", plan)
    if found:
        return f"b-tree {found.group(1)}"
    return "Seq Scan" if "Seq Scan on jobs_post" in plan else "?"


def search(runs: int, position: tuple[float, float]) -> list[dict]:
    """Keyword pages through ``jobs.selectors.board`` for 1-, 2- and 3-character words, under each sort."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs.selectors import BoardQuery, board

    rows = []
    for sort in ("newest", "pay", "nearest"):
        extra = {"lat": position[0], "lng": position[1]} if sort == "nearest" else {}
        for length, words in SEARCH_WORDS.items():
            timings: list[float] = []
            per_word = []
            for word in words:
                query = BoardQuery(q=word, sort=sort, **extra)
                board(query, rows=True)  # warm the caches and the connection
                mine = []
                for _ in range(runs):
                    started = time.perf_counter()
                    page = board(query, rows=True)
                    mine.append((time.perf_counter() - started) * 1000)
                timings.extend(mine)
                with CaptureQueriesContext(connection) as queries:
                    board(query, rows=True)  # as the API asks
                statements = [q["sql"] for q in queries.captured_queries]
                with connection.cursor() as cursor:
                    # The first statement finds the page (the last loads 20 rows by primary key).
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statements[0])
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                per_word.append(
                    {
                        "word": word,
                        "sql": statement_costs(statements),
                        "p95_ms": percentile(mine, 95),
                        "hits_first_page": len(page.posts),
                        "access": access_path(plan),
                        "plan": plan,
                    }
                )
            rows.append(
                {
                    "sort": sort,
                    "length": length,
                    "words": per_word,
                    "queries": len(timings),
                    "p50_ms": statistics.median(timings),
                    "p95_ms": percentile(timings, 95),
                    "gin_used": any(w["access"].startswith("GIN") for w in per_word),
                }
            )
    return rows


# -------------------------------------------------------------------------------------------- claims


def claimers(count: int):
    """``count`` verified seekers for the claim measurement (made once, reused by later runs)."""
    return verified_seekers(
        prefix=CLAIMER_PREFIX, count=count, name="压测工", region="350181", born=dt.date(1985, 1, 1)
    )


def verified_seekers(*, prefix: str, count: int, name: str, region: str, born: dt.date):
    """``count`` seekers with verified real-names (phones ``prefix`` + 7 digits, made once and reused by
    later runs), with their real-names loaded."""
    from django.contrib.auth.hashers import make_password
    from stdnum.cn import ric

    from accounts.models import RealName, User, WorkerProfile
    from core.crypto import blind_index
    from core.masking import mask_id_number

    phones = [f"{prefix}{i:07d}" for i in range(count)]
    existing = set(User.objects.filter(phone__in=phones).values_list("phone", flat=True))
    missing = [(i, p) for i, p in enumerate(phones) if p not in existing]
    if missing:
        password = make_password(None)
        users = User.objects.bulk_create(
            [
                User(phone=p, name=f"{name}{i:04d}", role=User.Role.SEEKER, password=password)
                for i, p in missing
            ]
        )
        WorkerProfile.objects.bulk_create([WorkerProfile(user=u) for u in users])
        records = []
        for (i, _), user in zip(missing, users, strict=True):
            birth = born + dt.timedelta(days=i // 1000)
            body = f"{region}{birth:%Y%m%d}{i % 1000:03d}"
            number = body + ric.calc_check_digit(body + "0")
            records.append(
                RealName(
                    user=user,
                    name=user.name,
                    id_number=number,
                    id_index=blind_index(number, purpose="id_number"),
                    id_masked=mask_id_number(number),
                    birth_year=birth.year,
                    status=RealName.Status.VERIFIED,
                    method=RealName.Method.MANUAL,
                )
            )
        RealName.objects.bulk_create(records)
    return list(User.objects.filter(phone__in=phones).select_related("realname").order_by("phone"))


def purge_task_queue() -> int:
    """Drop the tasks the run queued (bench.settings is not eager and no worker consumes the bench queue)."""
    from gigmarket.celery import app

    return app.control.purge() or 0


def clean_claim_posts(actor) -> None:
    """Bench posts are cancelled through the service (orders cancelled, money back to the employer);
    ledger rows are append-only, so nothing is deleted."""
    from jobs import services
    from jobs.models import Post

    for post in Post.objects.filter(title__startswith=CLAIM_TITLE, status__in=["open", "filled"]):
        services.post_cancel(post=post, actor=actor, reason="压测结束")


def _claim_process(calls, threads: int, barrier, queue) -> None:
    """One forked process: ``threads`` threads, each on its own connection, claiming after the barrier."""
    from django.db import connection

    from core.errors import DomainError
    from jobs import services

    outcomes: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def run(chunk):
        connection.ensure_connection()
        try:
            barrier.wait(timeout=120)
            for post, worker in chunk:
                began = time.time()
                try:
                    services.claim_create(post=post, worker=worker)
                    result = "ok"
                except DomainError as exc:
                    result = exc.code
                except Exception as exc:
                    result = f"error:{exc!r}"
                with lock:
                    outcomes.append((result, began, time.time()))
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=(calls[i::threads],)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(600)
    queue.put(outcomes)


def claims(
    procs: int, threads: int, n_posts: int, slots: int, attempts: int, trade_name: str = "搬运"
) -> dict:
    """抢单 under contention: ``procs`` processes × ``threads`` threads (one connection each, released
    together) fire ``attempts`` claims by distinct verified workers at ``n_posts`` grab posts."""
    import multiprocessing

    from django.db import connection, connections
    from django.utils import timezone

    from accounts.models import EmployerMember
    from demo import demo_data as D
    from jobs import money, services
    from jobs.models import Order, Post, Trade
    from wallet import ledger
    from wallet import services as wallet

    owner = EmployerMember.objects.select_related("employer", "user").get(
        user__phone=next(e.owner_phone for e in D.EMPLOYERS if e.key == D.DEMO_EMPLOYER), role="owner"
    )
    clean_claim_posts(owner.user)
    trade = Trade.objects.get(name=trade_name)
    start = timezone.now() + dt.timedelta(days=60)
    # Publishing sets every slot's pay and premium aside: top the employer up to what the posts need.
    sample = Post(trade=trade, pay_fen=20000, quantity=1, insurance_required=False)
    needed = sum(money.per_order_cost(sample)) * (slots * n_posts + SOLO_CLAIMS)
    balance = ledger.employer_account(owner.employer).balance_fen
    if balance < needed:
        wallet.employer_credit(
            employer=owner.employer,
            amount_fen=needed - balance,
            key=f"bench-claims:{time.time_ns()}",
            memo="压测充值",
        )
    posts = [
        services.post_create(
            employer=owner.employer,
            actor=owner.user,
            publish=True,
            trade=trade,
            title=f"{CLAIM_TITLE}{n + 1}",
            description="压测用岗位，测完即取消",
            pay_fen=20000,
            pay_unit="day",
            slots=slots if n < n_posts else SOLO_CLAIMS,
            area=owner.employer.area,
            address="压测地址",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=8),
            mode="grab",
            contact_name=owner.user.name,
            contact_phone=owner.user.phone,
        )
        for n in range(n_posts + 1)
    ]
    solo_post = posts.pop()
    workers = claimers(attempts + SOLO_CLAIMS)
    # Uncontended first: one claim at a time, for the service time of a claim on its own.
    solo = []
    for worker in workers[attempts:]:
        began = time.perf_counter()
        services.claim_create(post=solo_post, worker=worker)
        solo.append((time.perf_counter() - began) * 1000)
    calls = [(posts[i % n_posts], w) for i, w in enumerate(workers[:attempts])]
    connections.close_all()  # children must not share the parent's socket

    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(procs * threads + 1)
    queue = ctx.Queue()
    children = [
        ctx.Process(target=_claim_process, args=(calls[i::procs], threads, barrier, queue))
        for i in range(procs)
    ]
    for child in children:
        child.start()
    barrier.wait(timeout=120)
    released = time.time()
    outcomes = [item for _ in children for item in queue.get(timeout=600)]
    for child in children:
        child.join(60)

    counts: dict[str, int] = {}
    for result, _, _ in outcomes:
        counts[result] = counts.get(result, 0) + 1
    confirmed = Order.objects.filter(post__in=posts).count()
    left = list(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("slots_left", "status"))
    ok = [(began, ended) for result, began, ended in outcomes if result == "ok"]
    refused = [(began, ended) for result, began, ended in outcomes if result != "ok"]
    elapsed = max(ended for _, _, ended in outcomes) - released
    filled = max(ended for _, ended in ok) - released if ok else elapsed
    summary = {
        "trade": f"{trade.name}（风险等级{trade.risk_class}，每单保费{money.per_order_cost(posts[0])[1] / 100:.2f}元）",
        "processes": procs,
        "threads": procs * threads,
        "posts": n_posts,
        "slots_per_post": slots,
        "attempts": len(outcomes),
        "outcomes": counts,
        "confirmed_orders": confirmed,
        "overbooked": confirmed > n_posts * slots,
        "all_filled": all(s == 0 and st == Post.Status.FILLED for s, st in left),
        "seconds": elapsed,
        "fill_seconds": filled,
        "attempts_per_s": len(outcomes) / elapsed,
        "confirmed_per_s": confirmed / filled,
        "ok_p50_ms": statistics.median((e - b) * 1000 for b, e in ok) if ok else None,
        "ok_p95_ms": percentile([(e - b) * 1000 for b, e in ok], 95) if ok else None,
        "refused_p50_ms": statistics.median((e - b) * 1000 for b, e in refused) if refused else None,
        "solo_p50_ms": statistics.median(solo),
    }
    clean_claim_posts(owner.user)
    connection.close()
    summary["queued_tasks_purged"] = purge_task_queue()
    return summary


# -------------------------------------------------------------------------------------------- report


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        return "  ".join(
            str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def deep_report(deep: list[dict], meta: dict) -> list[str]:
    out = [
        f"深翻页（jobs.selectors.board 每页20条，进程内 p50，各深度轮流测；最近 = 从 {meta['deep_position']} 起；"
        "倍数 = 最深几页中最贵的 ÷ 第1页，目标 ≤ 2；缓冲块 = 该页各条 SQL 读的共享缓冲块之和，"
        "SQL ms = 其规划+执行时间之和（EXPLAIN ANALYZE，三次取中位数，与机器负载无关的成本））"
    ]
    rows = []
    for d in deep:
        ms, cost = d["ms"], d["cost"]
        rows.append(
            [
                d["sort"],
                *[f"{ms[depth]:.2f}" for depth in DEPTHS],
                f"{max(ms.values()) / ms[DEPTHS[0]]:.2f}",
                " / ".join(str(cost[depth]["buffers"]) for depth in DEPTHS),
                f"{max(c['buffers'] for c in cost.values()) / max(cost[DEPTHS[0]]['buffers'], 1):.2f}",
                " / ".join(f"{cost[depth]['sql_ms']:.2f}" for depth in DEPTHS),
                " / ".join(str(cost[depth]["statements"]) for depth in DEPTHS),
            ]
        )
    headers = [
        "排序",
        *[f"第{depth:,}行 ms" for depth in DEPTHS],
        "倍数",
        "缓冲块（各深度）",
        "缓冲块倍数",
        "SQL ms（各深度）",
        "SQL 条数",
    ]
    out.append(table(headers, rows))
    for d in deep:
        out.append("")
        out.append(
            f"EXPLAIN (ANALYZE, BUFFERS) · {d['sort']}，第 {DEPTHS[-1]:,} 行起的一页（最贵的一条 SQL）"
        )
        out.extend("    " + line for line in d["plan"].splitlines())
    return out


def search_report(search_rows: list[dict]) -> list[str]:
    runs = search_rows[0]["queries"] // len(search_rows[0]["words"])
    out = [
        f"关键词搜索（jobs.selectors.board，每页20条，每个词 {runs} 次，同一排序同一长度的词合并统计；目标 p95 ≤ 20 ms）"
    ]
    rows = [
        [
            s["sort"],
            f"{s['length']} 字",
            f"{s['p50_ms']:.2f}",
            f"{s['p95_ms']:.2f}",
            f"{max(w['sql']['sql_ms'] for w in s['words']):.2f}",
            "；".join(
                f"{w['word']} {w['p95_ms']:.1f}ms（SQL {w['sql']['sql_ms']:.2f}ms/{w['sql']['statements']}条）"
                f" {w['access']}"
                for w in s["words"]
            ),
        ]
        for s in search_rows
    ]
    headers = [
        "排序",
        "词长",
        "p50 ms",
        "p95 ms",
        "SQL ms（最贵的词）",
        "各词：p95、SQL 执行时间与读取 jobs_post 的方式",
    ]
    out.append(table(headers, rows))
    worst = max((w for s in search_rows for w in s["words"]), key=lambda w: w["p95_ms"])
    out.append("")
    out.append(f"EXPLAIN (ANALYZE, BUFFERS) · 最慢的词 q={worst['word']}（{worst['access']}）")
    out.extend("    " + line for line in worst["plan"].splitlines())
    return out


def report(results: dict) -> str:
    out = []
    meta = results["meta"]
    out.append(f"零工市场 · 招工列表基准测试  {meta['when']}")
    out.append(
        f"机器：{meta['cpus']} 核 · Python {meta['python']} · {meta['postgres']} · 数据库 {meta['database']}\n"
        f"数据：岗位 {meta['data']['posts']:,}（开放 {meta['data']['open_posts']:,}）· 求职者 {meta['data']['workers']:,}"
        f" · 准备数据 {meta['seed_seconds']:.0f} 秒"
    )
    out.append(
        f"gunicorn：{meta['gunicorn']} · wrk：{meta['wrk']} · 每项 {meta['seconds']} 秒（先预热）"
        " · 设置 bench.settings（生产设置，DEBUG 关）"
    )
    out.append(f"开始测量时系统负载（1/5/15 分钟）：{' / '.join(f'{v:.1f}' for v in meta['load_before'])}")
    out.append("")
    http = results["http"]
    if http:
        bare = (http[BARE]["rps"] + http[BARE_AFTER]["rps"]) / 2 if BARE_AFTER in http else http[BARE]["rps"]
        rows = []
        for name, r in http.items():
            hit = "-" if r.get("hit_rate") is None else f"{r['hit_rate'] * 100:.0f}%"
            rows.append(
                [
                    name,
                    f"{r['rps']:.0f}",
                    f"{r['rps'] / bare:.2f}",
                    f"{r['p50_ms']:.1f}",
                    f"{r['p95_ms']:.1f}",
                    f"{r['p99_ms']:.1f}",
                    hit,
                    f"{r.get('load', float('nan')):.1f}",
                    str(r["non_2xx"]),
                    str(r["timeouts"]),
                ]
            )
        out.append(
            f"HTTP（{meta['connections']} 并发连接；比值 = 请求/秒 ÷ 裸视图前后两次的平均 {bare:.0f}；"
            "缓存命中率按响应头 X-Board-Cache 统计；负载为该行开始时的 1 分钟负载）"
        )
        headers = [
            "接口",
            "请求/秒",
            "比值",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "缓存命中",
            "负载",
            "非2xx",
            "超时(>5s)",
        ]
        out.append(table(headers, rows))
        board = http[BOARD_MIX]
        ratio = board["rps"] / bare
        ok_ratio, ok_p99 = ratio >= TARGET["ratio"], board["p99_ms"] <= TARGET["p99_ms"]
        out.append(
            f"热门页面（页面缓存）比值 = {ratio:.2f}（目标 ≥ {TARGET['ratio']}：{'达到' if ok_ratio else '未达到'}）；"
            f"p99 = {board['p99_ms']:.1f} ms（目标 ≤ {TARGET['p99_ms']:.0f} ms：{'达到' if ok_p99 else '未达到'}）"
        )
        results["verdict"] = {"ratio": ratio, "ratio_ok": ok_ratio, "p99_ok": ok_p99}
        if VARIED in http:
            varied = http[VARIED]
            v_ratio = varied["rps"] / bare
            v_ok = v_ratio >= TARGET["varied_ratio"], varied["p99_ms"] <= TARGET["varied_p99_ms"]
            out.append(
                f"数据库路径（每个请求各不相同，缓存命中 {(varied['hit_rate'] or 0) * 100:.0f}%）比值 = {v_ratio:.2f}"
                f"（目标 ≥ {TARGET['varied_ratio']}：{'达到' if v_ok[0] else '未达到'}）；p99 = {varied['p99_ms']:.1f} ms"
                f"（目标 ≤ {TARGET['varied_p99_ms']:.0f} ms：{'达到' if v_ok[1] else '未达到'}）"
            )
            results["verdict"].update(varied_ratio=v_ratio, varied_ratio_ok=v_ok[0], varied_p99_ok=v_ok[1])
    out.append(f"测完时系统负载（1/5/15 分钟）：{' / '.join(f'{v:.1f}' for v in meta['load_after'])}")
    if results["breakdown"]:
        out.append("")
        out.append(f"单个请求耗时（进程内、单线程，{meta['paths']['工种+排序(最新)']}）")
        out.append(table(["环节", "p50 ms", "p95 ms"], results["breakdown"]))
    if results["deep"]:
        out.append("")
        out.extend(deep_report(results["deep"], meta))
    if results["search"]:
        out.append("")
        out.extend(search_report(results["search"]))
    c = results.get("claims")
    if not c:
        return "\n".join(out)
    out.append("")
    out.append(
        f"抢单并发（jobs.services.claim_create；{c['processes']} 个进程 × {c['threads'] // c['processes']} 个线程，"
        f"每线程一个数据库连接，同时放行；{c['posts']} 个岗位 × {c['slots_per_post']} 个名额；"
        f"{c['attempts']} 名不同的已实名工人各抢一次；工种 {c['trade']}）"
    )
    rows = [
        [
            str(c["attempts"]),
            ", ".join(f"{k} {v}" for k, v in sorted(c["outcomes"].items())),
            f"{c['fill_seconds']:.2f}",
            f"{c['confirmed_per_s']:.0f}",
            f"{c['seconds']:.2f}",
            f"{c['attempts_per_s']:.0f}",
            f"{c['ok_p50_ms']:.0f} / {c['ok_p95_ms']:.0f}" if c["ok_p50_ms"] else "-",
            f"{c['refused_p50_ms']:.0f}" if c["refused_p50_ms"] else "-",
            "是！" if c["overbooked"] else ("否，全部招满" if c["all_filled"] else "否"),
        ]
    ]
    headers = [
        "请求",
        "结果",
        "招满用时 s",
        "成交/秒",
        "总用时 s",
        "请求/秒",
        "成交 p50/p95 ms",
        "拒绝 p50 ms",
        "超卖",
    ]
    out.append(table(headers, rows))
    out.append(f"对照：无竞争时逐个抢单（单线程，{SOLO_CLAIMS} 次），每次成交 p50 {c['solo_p50_ms']:.1f} ms")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- main


def measure_http(args, env: dict[str, str], wrk_binary: str, paths: dict[str, str], cursors) -> dict:
    """The wrk rows: bare, the six hot filters (each alone unless --skip-solo), the varied database path
    through the real route and the uncached one, the six filters uncached, and bare again."""
    from django.db import connection

    varied = varied_paths(args.varied_count, 1, cursors)
    varied_warm = varied_paths(2000, 2, cursors)
    uncached_varied = varied_paths(args.varied_count, 3, cursors, prefix="/bench/board-uncached/")
    uncached_warm = varied_paths(2000, 4, cursors, prefix="/bench/board-uncached/")
    connection.close()  # the server gets the database to itself while it is measured

    RESULTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = RESULTS / "gunicorn.log"
    server = start_gunicorn(args, env, port, log)
    http: dict[str, dict] = {}
    try:
        for path in [*paths.values(), "/bench/bare", varied[0], uncached_varied[0]]:
            status, body = get(port, path)
            if status != 200:
                sys.exit(f"GET {path} answered {status}: {body[:300]!r}")
        # (name, measured targets, warm-up targets, seconds)
        short = max(3, args.seconds // 3)
        runs = [(BARE, ["/bench/bare"], ["/bench/bare"], args.seconds)]
        runs.append((BOARD_MIX, list(paths.values()), list(paths.values()), args.seconds))
        if not args.skip_solo:
            runs += [(f"  · {name}", [path], [path], short) for name, path in paths.items()]
        # Every request its own page: the warm-up uses other requests, so nothing measured is cached.
        runs.append((VARIED, varied, varied_warm, args.seconds))
        runs.append((VARIED_UNCACHED, uncached_varied, uncached_warm, args.seconds))
        uncached_six = [p.replace("/api/v1/posts/", "/bench/board-uncached/") for p in paths.values()]
        runs.append((UNCACHED, uncached_six, uncached_six, short))
        runs.append((BARE_AFTER, ["/bench/bare"], ["/bench/bare"], args.seconds))
        for name, targets, warm, seconds in runs:
            wrk(wrk_binary, port, warm, seconds=2, connections=args.connections, threads=args.wrk_threads)
            load = os.getloadavg()[0]
            http[name] = wrk(
                wrk_binary,
                port,
                targets,
                seconds=seconds,
                connections=args.connections,
                threads=args.wrk_threads,
            )
            r = http[name]
            r["load"] = load
            hit = "-" if r["hit_rate"] is None else f"{r['hit_rate'] * 100:.0f}%"
            print(
                f"{name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
                f"p99 {r['p99_ms']:.1f} ms, cache hits {hit}, load {load:.1f}",
                flush=True,
            )
    finally:
        stop(server)
    return http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/gigmarket_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=200_000)
    parser.add_argument("--employers", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=15, help="length of each measured wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=1, help="more than 1: gthread workers")
    parser.add_argument("--search-runs", type=int, default=40, help="queries per search word and sort")
    parser.add_argument("--claim-processes", type=int, default=4)
    parser.add_argument("--claim-threads", type=int, default=8, help="per process")
    parser.add_argument("--claim-posts", type=int, default=4)
    parser.add_argument("--claim-slots", type=int, default=50)
    parser.add_argument("--claim-attempts", type=int, default=1600)
    parser.add_argument(
        "--claim-trade", default="搬运", help="trade of the bench posts (its risk class sets the premium)"
    )
    parser.add_argument("--skip-seed", action="store_true", help="use the database as it is")
    parser.add_argument("--skip-claims", action="store_true", help="measure the board only")
    parser.add_argument("--skip-solo", action="store_true", help="no row per cached filter")
    parser.add_argument(
        "--varied-count", type=int, default=12_000, help="distinct requests in the varied rows"
    )
    parser.add_argument("--deep-runs", type=int, default=30, help="timed pages per sort and depth")
    parser.add_argument("--seed-only", action="store_true", help="prepare the database, measure nothing")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated parts to run, of {','.join(PARTS)} (e.g. deep,keyword: about a minute)",
    )
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    if only - set(PARTS):
        sys.exit(f"--only: unknown part(s) {','.join(sorted(only - set(PARTS)))}; use {','.join(PARTS)}")
    if args.skip_claims:
        only.discard("claims")
    if not 1 <= args.claim_processes * args.claim_threads <= 60:
        sys.exit("--claim-processes × --claim-threads: 1–60 (PostgreSQL here allows 100 connections in all)")

    env = bench_env(args.db, args.redis)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    wrk_binary = ensure_wrk() if "http" in only else ""
    ensure_database(args.db)

    import django

    django.setup()
    from django.db import connection

    if args.skip_seed:  # a reused database still gets the code's schema (a new migration since)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    seed_seconds = 0.0 if args.skip_seed else seed(args)["seconds"]
    if args.seed_only:
        print(f"数据已就绪（{seed_seconds:.0f} 秒）：{data_summary()}")
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    data = data_summary()
    paths = board_paths()
    print("读取各排序的真实翻页参数 …", flush=True)
    positions = deep_positions()
    cursors = Cursors(positions)
    http: dict[str, dict] = {}
    load_before = os.getloadavg()
    if "http" in only:
        http = measure_http(args, env, wrk_binary, paths, cursors)
    load_after = os.getloadavg()

    breakdown_rows = breakdown(paths) if "breakdown" in only else []
    deep_rows = deep_pages(cursors, positions[0], args.deep_runs) if "deep" in only else []
    search_rows = search(args.search_runs, positions[0]) if "keyword" in only else []
    claim_summary = (
        None
        if "claims" not in only
        else claims(
            args.claim_processes,
            args.claim_threads,
            args.claim_posts,
            args.claim_slots,
            args.claim_attempts,
            args.claim_trade,
        )
    )
    workers_kind = "gthread" if args.gunicorn_threads > 1 else "sync"
    results = {
        "meta": {
            "when": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": f"PostgreSQL {pg_version}",
            "database": urlsplit(args.db).path.lstrip("/"),
            "data": data,
            "seed_seconds": seed_seconds,
            "gunicorn": f"-w {args.gunicorn_workers} --threads {args.gunicorn_threads} ({workers_kind}), keep-alive 5 s",
            "wrk": f"-t{args.wrk_threads} -c{args.connections}",
            "seconds": args.seconds,
            "paths": paths,
            "load_before": load_before,
            "load_after": load_after,
            "connections": args.connections,
            "deep_position": positions[0],
        },
        "deep": deep_rows,
        "http": http,
        "breakdown": breakdown_rows,
        "search": search_rows,
        "claims": claim_summary,
    }
    text = report(results)
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"jobs_board-{stamp}.txt").write_text(text + "\n", encoding="utf-8")
    (RESULTS / f"jobs_board-{stamp}.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2, default=str)
    )
    (RESULTS / "jobs_board-latest.txt").write_text(text + "\n", encoding="utf-8")
    print(f"\n结果已写入 {RESULTS / f'jobs_board-{stamp}.txt'}")
    # Slow is a finding, not a failure; wrong answers and overbooking are failures.
    bad = [n for n, r in http.items() if r["non_2xx"] or (r["socket_errors"] and not r["timeouts"])]
    if bad or (
        claim_summary
        and (claim_summary["overbooked"] or any(k.startswith("error") for k in claim_summary["outcomes"]))
    ):
        sys.exit(f"errors during the run: {bad or claim_summary['outcomes']}")


if __name__ == "__main__":
    main()
