"""Big-screen (大屏) benchmark: the per-service-point screen data endpoint under load, side by side with the
bare Django view in the same run, on the job-board benchmark's database (100k posts, 200k workers).

    .venv/bin/python bench/hall_screen.py               # seeds gigmarket_bench like bench/jobs_board.py
    .venv/bin/python bench/hall_screen.py --skip-seed   # use the database as it is (migrates the hall app)

One run reuses bench/jobs_board.py's environment, seeding, gunicorn and wrk harness (imported, not copied):

1. times one uncached build of each point's screen data in-process (what a cache miss costs: the nearest
   open posts through the board's GiST index, and the ticker's counts);
2. starts gunicorn with ``bench.settings`` (production settings, Redis cache) and drives with wrk, at 32
   connections: ``/bench/bare``; ``/hall/screen/<point>/data.json`` round-robin over every service point
   (served from the per-point cache, rebuilt every HALL_SCREEN_CACHE_SECONDS); and one point with
   ``If-None-Match`` (what a screen that already holds the data gets: 304, no body); then the bare view
   again, as the box is shared and its load drifts during a run.

The report is printed and written to ``bench/results/hall_screen-*.txt`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import jobs_board as jb

BARE = "裸 JsonResponse"
SCREEN = "大屏数据（各网点轮询，按网点缓存）"
NOT_MODIFIED = "大屏数据（带 If-None-Match → 304）"
BARE_AGAIN = "裸 JsonResponse（再测一次，看机器负载漂移）"


def wrk_with_header(
    binary: str,
    port: int,
    path: str,
    header: tuple[str, str],
    *,
    seconds: int,
    connections: int,
    threads: int,
) -> dict:
    """A bounded wrk run of one path with one extra request header (jobs_board.wrk sends none)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.headers["X-Forwarded-Proto"] = "https"\n'
            f"wrk.headers[{json.dumps(header[0])}] = {json.dumps(header[1])}\n"
            f"wrk.path = {json.dumps(path)}\n"
        )
    cmd = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    cmd += ["-s", script.name, f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    os.unlink(script.name)
    return jb.parse_wrk(out)


def build_times(points) -> dict:
    """One uncached build per point, in-process, as the view makes it on a cache miss: the point's posts
    (the ticker's market-wide counts are cached apart and built once, timed separately)."""
    from hall.selectors import screen_figures, screen_payload

    started = time.perf_counter()
    figures = screen_figures()
    figures_ms = (time.perf_counter() - started) * 1000
    times, sizes = [], []
    for point in points:
        started = time.perf_counter()
        payload = screen_payload(point=point, figures=figures)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(len(json.dumps(payload, ensure_ascii=False).encode()))
    return {
        "points": len(points),
        "p50_ms": statistics.median(times),
        "p95_ms": jb.percentile(times, 95),
        "max_ms": max(times),
        "figures_ms": figures_ms,
        "bytes_p50": int(statistics.median(sizes)),
    }


def report(results: dict) -> str:
    meta, http, build = results["meta"], results["http"], results["build"]
    bare = http[BARE]["rps"]
    rows = [
        [
            name,
            f"{r['rps']:.0f}",
            f"{r['rps'] / bare:.2f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            str(r["non_2xx"]),
            r["socket_errors"] or "—",
        ]
        for name, r in http.items()
    ]
    lines = [
        "大屏数据接口压测（bench/hall_screen.py）",
        f"时间 {meta['when']} · CPU {meta['cpus']} · Python {meta['python']} · {meta['postgres']} · 负载(前) {meta['load_before']}",
        f"数据：{meta['data']} · 网点 {meta['points']} 个 · 缓存 {meta['cache_seconds']} 秒",
        f"gunicorn {meta['gunicorn']} · wrk {meta['wrk']} · 每轮 {meta['seconds']} 秒",
        "",
        jb.table(["请求", "req/s", "相对裸视图", "p50 ms", "p99 ms", "非2xx/3xx", "socket 错误"], rows),
        "",
        f"未命中缓存时构建一个网点的大屏数据（进程内，{build['points']} 个网点各一次）："
        f"p50 {build['p50_ms']:.1f} ms · p95 {build['p95_ms']:.1f} ms · 最慢 {build['max_ms']:.1f} ms · "
        f"响应体约 {build['bytes_p50'] / 1024:.1f} KB；滚动条的全市计数（各大屏共用，"
        f"每 {meta['figures_seconds']} 秒一次）{build['figures_ms']:.1f} ms",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/gigmarket_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=200_000)
    parser.add_argument("--employers", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=1)
    parser.add_argument("--skip-seed", action="store_true", help="use the database as it is")
    args = parser.parse_args()

    env = jb.bench_env(args.db, args.redis)
    os.environ.update(env)
    wrk_binary = jb.ensure_wrk()
    jb.ensure_database(args.db)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import ServicePoint

    if args.skip_seed:
        call_command("migrate", "hall", verbosity=0)
    else:
        jb.seed(args)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    points = list(ServicePoint.objects.filter(is_active=True).select_related("area").order_by("pk"))
    if not points:
        sys.exit("no service points in the database: run without --skip-seed")
    build = build_times(points)
    print(f"未命中缓存的构建：p50 {build['p50_ms']:.1f} ms, p95 {build['p95_ms']:.1f} ms", flush=True)
    data = jb.data_summary()
    connection.close()

    jb.RESULTS.mkdir(parents=True, exist_ok=True)
    port = jb.free_port()
    server = jb.start_gunicorn(args, env, port, jb.RESULTS / "gunicorn-hall.log")
    paths = [f"/hall/screen/{p.pk}/data.json" for p in points]
    http: dict[str, dict] = {}
    load_before = os.getloadavg()
    try:
        for path in ["/bench/bare", *paths]:
            status, body = jb.get(port, path)
            if status != 200:
                sys.exit(f"GET {path} answered {status}: {body[:300]!r}")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{paths[0]}", headers={"X-Forwarded-Proto": "https"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            etag = response.headers["ETag"]
        common = {"seconds": args.seconds, "connections": args.connections, "threads": args.wrk_threads}
        for name, targets in ((BARE, ["/bench/bare"]), (SCREEN, paths)):
            jb.wrk(
                wrk_binary, port, targets, seconds=2, connections=args.connections, threads=args.wrk_threads
            )
            http[name] = jb.wrk(wrk_binary, port, targets, **common)
            r = http[name]
            print(
                f"{name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms",
                flush=True,
            )
        # The ETag stays valid while the data does not change; the cache rebuilds the same bytes.
        http[NOT_MODIFIED] = wrk_with_header(
            wrk_binary, port, paths[0], ("If-None-Match", etag), seconds=max(3, args.seconds // 3),
            connections=args.connections, threads=args.wrk_threads,
        )  # fmt: skip
        r = http[NOT_MODIFIED]
        print(f"{NOT_MODIFIED}: {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms", flush=True)
        http[BARE_AGAIN] = jb.wrk(wrk_binary, port, ["/bench/bare"], **common)
    finally:
        jb.stop(server)

    workers_kind = "gthread" if args.gunicorn_threads > 1 else "sync"
    results = {
        "meta": {
            "when": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": f"PostgreSQL {pg_version}",
            "data": data,
            "points": len(points),
            "cache_seconds": settings.HALL_SCREEN_CACHE_SECONDS,
            "figures_seconds": settings.HALL_SCREEN_FIGURES_SECONDS,
            "gunicorn": f"-w {args.gunicorn_workers} --threads {args.gunicorn_threads} ({workers_kind})",
            "wrk": f"-t{args.wrk_threads} -c{args.connections}",
            "seconds": args.seconds,
            "load_before": tuple(round(x, 2) for x in load_before),
        },
        "build": build,
        "http": http,
    }
    text = report(results)
    print()
    print(text)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (jb.RESULTS / f"hall_screen-{stamp}.txt").write_text(text + "\n", encoding="utf-8")
    (jb.RESULTS / f"hall_screen-{stamp}.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2, default=str)
    )
    (jb.RESULTS / "hall_screen-latest.txt").write_text(text + "\n", encoding="utf-8")
    bad = [n for n, r in http.items() if r["non_2xx"] or (r["socket_errors"] and not r["timeouts"])]
    if bad:
        sys.exit(f"errors during the run: {bad}")


if __name__ == "__main__":
    main()
