"""Matching benchmark (活找人): the push list of one new post, the full-city batch, and the batch's recall
against brute force, on a PostgreSQL database holding 800k seekers and 100k open posts.

    .venv/bin/python bench/matching.py            # seeds gigmarket_bench_match on the first run, reuses it after

One run:

1. creates and migrates ``gigmarket_bench_match`` (``--db``) and runs ``seed_demo --workers 800000
   --employers 2000 --posts 100000`` (bulk inserts; idempotent), then gives the bulk seekers what matching
   reads beyond their profile — a verified real-name and worker stats (reliability, stars) — with COPY,
   and ``VACUUM ANALYZE``;
2. (a) times ``matching.selectors.workers_for_post`` — the push list of the wave that goes out when a post
   opens — for a sample of open posts across trades and areas (p50/p95/max; target ≤ 200 ms), and one whole
   ``push_post`` (list + recommendation rows + messages) in a transaction rolled back afterwards;
3. (b) runs the full-city batch ``matching.batch.recompute_city`` (progress bar on a terminal), timing it
   and reading the peak memory of the process and of its forked ranking processes (targets ≤ 10 min,
   ≤ 4 GiB);
4. compares the batch's stored top-10 with :func:`matching.batch.brute_force_top` (each seeker ranked
   against every open post) for a random sample of seekers, and prints the mean overlap.

The report is printed and written to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs_board import bench_env, ensure_database, percentile  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET = {"push_ms": 200.0, "batch_seconds": 600.0, "batch_gib": 4.0}


def seed(args) -> float:
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
    matching_facts()
    ensure_index(force=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def matching_facts() -> None:
    """Verified real-names and worker stats for bulk seekers that have none, written with COPY. The ID
    number is one encrypted placeholder (never decrypted here); the blind index is unique per user."""
    import hashlib
    import io

    from django.db import connection, transaction
    from django.utils import timezone

    from core.crypto import encrypt
    from demo import demo_data as D

    cipher = encrypt("000000190001010000")
    now = timezone.now().isoformat()
    rng = random.Random(D.BULK_SEED + 9)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.id, u.name FROM accounts_user u WHERE u.phone LIKE %s AND NOT EXISTS "
            "(SELECT 1 FROM accounts_realname r WHERE r.user_id = u.id) ORDER BY u.id",
            [f"{D.BULK_WORKER_PREFIX}%"],
        )
        users = cursor.fetchall()
        if users:
            print(f"实名与信用数据：{len(users)} 名批量求职者")
            names, stats = io.StringIO(), io.StringIO()
            for user_id, name in users:
                index = hashlib.sha256(f"bench-realname:{user_id}".encode()).hexdigest()
                names.write(
                    f"{user_id}\t{name or '求职者'}\t{cipher}\t{index}\t0****************0\t1980\t"
                    f"verified\tmanual\t\t{now}\t{now}\n"
                )
                completed = rng.choice((0, 0, 1, 3, 8, 20))
                no_shows = rng.choice((0, 0, 0, 0, 1, 2)) if completed else 0
                late = rng.choice((0, 0, 0, 1))
                rating_count = completed
                rating_sum = sum(rng.choice((3, 4, 4, 5, 5)) for _ in range(rating_count))
                reliability = round(100 * (completed + 1) / (completed + 1 + 3 * no_shows + late))
                stats.write(
                    f"{user_id}\t{completed}\t{no_shows}\t{late}\t{rating_sum}\t{rating_count}\t{reliability}\n"
                )
            names.seek(0)
            stats.seek(0)
            raw = cursor.cursor
            raw.copy_expert(
                "COPY accounts_realname (user_id, name, id_number, id_index, id_masked, birth_year, status, "
                "method, reject_reason, submitted_at, decided_at) FROM STDIN",
                names,
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_stats (user_id bigint, completed int, no_shows int, late_cancels int, "
                "rating_sum int, rating_count int, reliability int) ON COMMIT DROP"
            )
            raw.copy_expert("COPY bench_stats FROM STDIN", stats)
            cursor.execute(
                "INSERT INTO jobs_workerstats (user_id, completed, no_shows, late_cancels, rating_sum, "
                "rating_count, reliability) SELECT * FROM bench_stats ON CONFLICT (user_id) DO NOTHING"
            )


def ensure_index(*, force: bool = False) -> None:
    """The retrieval index of the per-post path (bulk rows are written without the signals that keep it)."""
    from django.db import connection

    from matching.indexing import worker_index_rebuild
    from matching.models import WorkerIndex

    if force or not WorkerIndex.objects.exists():
        print(f"检索索引：{worker_index_rebuild()} 行", flush=True)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {WorkerIndex._meta.db_table}")


def summary() -> dict:
    from django.utils import timezone

    from accounts.models import RealName, User, WorkerProfile
    from jobs.models import Post

    return {
        "open_posts": Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=timezone.now()).count(),
        "seekers": User.objects.filter(role=User.Role.SEEKER).count(),
        "profiles": WorkerProfile.objects.count(),
        "verified": RealName.objects.filter(status=RealName.Status.VERIFIED).count(),
    }


def push_list(samples: int) -> dict:
    """(a) the push list of one post: retrieval + ranking, for posts of every trade and many areas."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from jobs.models import Post
    from matching import selectors, services
    from matching.services import PUSH_CHANNELS

    rng = random.Random(7)
    ids = list(
        Post.objects.filter(
            status=Post.Status.OPEN, starts_at__gt=timezone.now(), contact_phone__startswith="152"
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    picked = rng.sample(ids, min(samples, len(ids)))
    size = settings.MATCHING_PUSH_SIZE
    timings, found, queries = [], [], []
    for n, pk in enumerate(picked):
        post = Post.objects.get(pk=pk)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            matches = selectors.workers_for_post(post=post, limit=size, exclude_channels=PUSH_CHANNELS)
        elapsed = (time.perf_counter() - started) * 1000
        if n >= 3:  # the first ones warm the caches
            timings.append(elapsed)
            found.append(len(matches))
            queries.append(len(captured.captured_queries))
    # one whole push (list, recommendation rows, outbox rows), rolled back
    post = Post.objects.get(pk=picked[0])
    with transaction.atomic():
        started = time.perf_counter()
        pushed = services.push_post(post_id=post.pk, wave=9)
        whole = (time.perf_counter() - started) * 1000
        transaction.set_rollback(True)
    return {
        "posts": len(timings),
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 95),
        "max_ms": max(timings),
        "mean_workers": statistics.mean(found),
        "queries": max(queries),
        "push_post_ms": whole,
        "push_post_workers": pushed,
    }


def for_you(samples: int) -> dict:
    """为你推荐 for one seeker (retrieval + ranking of their posts), as the page and the kiosk call it."""
    from accounts.models import User, WorkerProfile
    from matching import selectors

    rng = random.Random(3)
    ids = list(WorkerProfile.objects.order_by("pk").values_list("user_id", flat=True))
    timings, found = [], []
    for n, user in enumerate(User.objects.filter(pk__in=rng.sample(ids, min(samples, len(ids))))):
        started = time.perf_counter()
        matches = selectors.posts_for_worker(worker=user, limit=20)
        if n >= 3:
            timings.append((time.perf_counter() - started) * 1000)
            found.append(len(matches))
    return {
        "seekers": len(timings),
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 95),
        "mean_posts": statistics.mean(found),
    }


def batch(args) -> dict:
    """(b) the whole city, with the peak memory of this process and of its forked rankers."""
    from matching.batch import recompute_city

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = recompute_city(progress=sys.stderr.isatty(), processes=args.processes)
    result["wall_seconds"] = time.monotonic() - started
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_self_gib"] = self_kib / 1024**2
    result["peak_child_gib"] = child_kib / 1024**2
    # Forked children share the parent's pages until they write them: parent + processes × child bounds it.
    result["peak_bound_gib"] = (
        self_kib + child_kib * result["processes"] * (result["processes"] > 1)
    ) / 1024**2
    result["rss_before_gib"] = before / 1024**2
    return result


def recall(sample: int) -> dict:
    from django.utils import timezone

    from accounts.models import WorkerProfile
    from matching.batch import CityIndex, brute_force_top, overlap
    from matching.models import Suggestion

    rng = random.Random(11)
    users = list(WorkerProfile.objects.order_by("pk").values_list("user_id", flat=True))
    picked = rng.sample(users, min(sample, len(users)))
    stored: dict[int, list[int]] = {}
    for worker_id, post_id in (
        Suggestion.objects.filter(worker_id__in=picked)
        .order_by("worker_id", "rank")
        .values_list("worker_id", "post_id")
    ):
        stored.setdefault(worker_id, []).append(post_id)
    index = CityIndex.build(now=timezone.now())
    started = time.monotonic()
    reference = brute_force_top(index, picked, top=10)
    seconds = time.monotonic() - started
    exact = [stored.get(u, []) == ref for u, ref in reference.items() if ref]
    top1 = [bool(ref) and stored.get(u, [None])[:1] == ref[:1] for u, ref in reference.items() if ref]
    return {
        "sample": len(picked),
        "with_matches": sum(1 for r in reference.values() if r),
        "overlap": overlap(stored, reference),
        "same_list": sum(exact) / len(exact) if exact else 0.0,
        "same_top1": sum(top1) / len(top1) if top1 else 0.0,
        "brute_force_ms_per_seeker": seconds * 1000 / max(1, len(picked)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/gigmarket_bench_match")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--workers", type=int, default=800_000)
    parser.add_argument("--employers", type=int, default=2_000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--push-samples", type=int, default=60, help="posts whose push list is timed")
    parser.add_argument("--recall-sample", type=int, default=200, help="seekers checked against brute force")
    parser.add_argument("--processes", type=int, default=2, help="ranking processes of the batch")
    parser.add_argument("--skip-seed", action="store_true", help="use the database as it is")
    parser.add_argument("--skip-batch", action="store_true", help="measure the push list only")
    args = parser.parse_args()

    env = bench_env(args.db, args.redis)
    os.environ.update(env)
    ensure_database(args.db)
    import django

    django.setup()
    seed_seconds = 0.0 if args.skip_seed else seed(args)
    ensure_index()
    data = summary()
    print(f"数据：{data}（准备 {seed_seconds:.0f} 秒）", flush=True)
    load = os.getloadavg()
    report: dict = {
        "data": data,
        "load_before": load,
        "machine": f"{platform.machine()} × {os.cpu_count()} 核",
    }
    report["push"] = push = push_list(args.push_samples)
    print(
        f"(a) 单个岗位推送名单：p50 {push['p50_ms']:.0f} ms，p95 {push['p95_ms']:.0f} ms，最大 {push['max_ms']:.0f} ms"
        f"（{push['posts']} 个岗位，平均 {push['mean_workers']:.0f} 人，{push['queries']} 条SQL；目标 ≤ "
        f"{TARGET['push_ms']:.0f} ms）；含写推荐与消息的整次推送 {push['push_post_ms']:.0f} ms",
        flush=True,
    )
    report["for_you"] = fy = for_you(args.push_samples)
    print(
        f"为你推荐（单个求职者）：p50 {fy['p50_ms']:.0f} ms，p95 {fy['p95_ms']:.0f} ms（{fy['seekers']} 人，"
        f"平均 {fy['mean_posts']:.0f} 条）",
        flush=True,
    )
    if not args.skip_batch:
        report["batch"] = b = batch(args)
        print(
            f"(b) 全市批量：{b['workers']} 名求职者 × {b['posts']} 个岗位 → {b['suggestions']} 条，"
            f"{b['wall_seconds']:.0f} 秒（载入 {b['load_seconds']} 秒；目标 ≤ {TARGET['batch_seconds']:.0f} 秒），"
            f"峰值内存 主进程 {b['peak_self_gib']:.2f} GiB、子进程 {b['peak_child_gib']:.2f} GiB，"
            f"上限估计 {b['peak_bound_gib']:.2f} GiB（目标 ≤ {TARGET['batch_gib']} GiB），{b['processes']} 个排序进程，"
            f"{b['exact_share']:.1%} 的求职者在单元上限内证明为精确结果",
            flush=True,
        )
        report["recall"] = r = recall(args.recall_sample)
        print(
            f"(c) 与暴力计算对比（{r['sample']} 名随机求职者，{r['with_matches']} 人有结果）：前10重合 "
            f"{r['overlap']:.1%}，完全相同 {r['same_list']:.1%}，第1名相同 {r['same_top1']:.1%}",
            flush=True,
        )
    report["load_after"] = os.getloadavg()
    print(f"负载：开始 {load[0]:.1f}，结束 {report['load_after'][0]:.1f}（2 核机器，与其他任务共用）")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"matching-{stamp}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str)
    )
    (RESULTS / "matching-latest.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
