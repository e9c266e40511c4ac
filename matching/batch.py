"""The city-wide batch: every seeker's best open posts, recomputed in one pass (nightly, or by
``manage.py matching_recompute``), stored as :class:`~matching.models.Suggestion` rows for the digest.

The open posts are loaded once and indexed in memory by (trade, area); seekers are streamed from the
database in chunks. Each seeker's candidates come from the same retrieval idea as the per-request paths —
their wanted trades in their own area and the nearest areas, plus the best-paid posts of those trades in
the city — and are ranked with :func:`matching.scoring.rank_posts` (the arithmetic of ``evaluate``). The
exact search the batch runs is :mod:`matching.vectors` (a trade at a time in numpy arrays, best bound
first; its short list re-ranked by ``rank_posts``); ``SEARCH = "cells"`` selects the older branch and bound
of :mod:`matching.bounded`, kept for comparison (``bench/matching.py --modes``). The final top N are scored
and explained with :func:`matching.scoring.evaluate` / ``reason`` and written with
COPY. :func:`brute_force_top` ranks a seeker against every open post, to check the retrieval's recall.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import Certificate, EmployerMember, User, WorkerProfile
from jobs.models import Block, Claim, Order, Post

from . import bounded, scoring, vectors
from .indexing import worker_index_rebuild
from .models import Suggestion
from .scoring import PostFacts, WorkerFacts
from .selectors import (
    ACTIVE_CLAIMS,
    POST_FIELDS,
    PROFILE_FIELDS,
    AreaMap,
    post_facts,
    trade_table,
    valid_certificates,
    worker_facts,
)

# The exact search of the batch: "vectors" (matching/vectors.py, a trade at a time in arrays) or "cells"
# (matching/bounded.py, branch and bound over (trade, area) cells and runs of posts; kept for comparison).
SEARCH = "vectors"
CELL_CAP = 5  # best posts taken from each (trade, area) cell
NEAR_AREAS = 3  # the seeker's own area and the nearest others
CITY_BEST = 10  # best-paid posts of each wanted trade in the whole city (the distance gate comes later)


def _cfg(name: str, default):
    return getattr(settings, name, default)


@dataclass
class CityIndex:
    """Open posts in memory, indexed for retrieval, and the pairs the claim gates would refuse."""

    areas: AreaMap
    trades: dict
    posts: list[PostFacts]
    by_cell: dict[tuple[int, int], list[PostFacts]]
    city_best: dict[int, list[PostFacts]]
    near_areas: dict[int | None, list[int]]
    weights: dict[str, float]
    claimed: dict[int, set[int]] = field(default_factory=dict)
    blocked: dict[int, set[int]] = field(default_factory=dict)
    member_of: dict[int, set[int]] = field(default_factory=dict)
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)
    trade_cells: list = field(default_factory=list)
    trade_vectors: vectors.CityVectors | None = None

    @classmethod
    def build(cls, *, now: dt.datetime) -> CityIndex:
        areas, trades = AreaMap.load(), trade_table()
        w = scoring.weights()
        open_posts = Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=now)
        counts: dict[int, int] = defaultdict(int)
        for post_id in (
            Claim.objects.filter(post__in=open_posts, status__in=ACTIVE_CLAIMS)
            .values_list("post_id", flat=True)
            .iterator(chunk_size=20_000)
        ):
            counts[post_id] += 1
        posts = [
            post_facts(row, applicants=counts.get(row["pk"], 0), areas=areas, trades=trades)
            for row in open_posts.values(*POST_FIELDS).iterator(chunk_size=20_000)
        ]
        # Posts of a cell best first by what does not depend on the seeker: pay within the trade, few
        # applicants per slot.
        median_pay: dict[int, float] = {}
        by_trade: dict[int, list[PostFacts]] = defaultdict(list)
        for p in posts:
            by_trade[p.trade_id].append(p)
        for trade_id, group in by_trade.items():
            pays = sorted(p.day_pay or p.pay_fen for p in group)
            median_pay[trade_id] = pays[len(pays) // 2] or 1

        def prescore(p: PostFacts) -> float:
            ratio = (p.day_pay or p.pay_fen) / median_pay[p.trade_id]
            pay = min(1.0, max(0.0, 0.5 + (ratio - 1.0) * 1.25))
            return w["pay"] * pay + w["fair_share"] / (1.0 + p.applicants / max(1, p.slots))

        by_cell: dict[tuple[int, int], list[PostFacts]] = defaultdict(list)
        for p in posts:
            by_cell[(p.trade_id, p.area_id)].append(p)
        for cell in by_cell.values():
            cell.sort(key=lambda p: (-prescore(p), p.id))
        city_best = {
            t: sorted(group, key=lambda p: (-prescore(p), p.id))[:CITY_BEST] for t, group in by_trade.items()
        }
        # Area centres from the posts in them (areas without posts do not matter for retrieval).
        sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        for p in posts:
            if p.lat is not None:
                acc = sums[p.area_id]
                acc[0] += p.lat
                acc[1] += p.lng
                acc[2] += 1
        centres = {a: (s[0] / s[2], s[1] / s[2]) for a, s in sums.items()}
        index = cls(
            areas=areas,
            trades=trades,
            posts=posts,
            by_cell=dict(by_cell),
            city_best=city_best,
            near_areas={},
            weights=w,
        )
        index._centres = centres  # type: ignore[attr-defined]
        index.trade_cells = bounded.build_cells(posts)
        index.trade_vectors = vectors.build(posts)
        index._load_gates(now=now, open_posts=open_posts)
        return index

    def _load_gates(self, *, now: dt.datetime, open_posts) -> None:
        for worker_id, post_id in Claim.objects.filter(post__in=open_posts).values_list(
            "worker_id", "post_id"
        ):
            self.claimed.setdefault(worker_id, set()).add(post_id)
        for employer_id, worker_id in Block.objects.values_list("employer_id", "worker_id"):
            self.blocked.setdefault(worker_id, set()).add(employer_id)
        for employer_id, user_id in EmployerMember.objects.filter(user__role=User.Role.SEEKER).values_list(
            "employer_id", "user_id"
        ):
            self.member_of.setdefault(user_id, set()).add(employer_id)
        for worker_id, starts, ends in Order.objects.filter(
            status__in=Order.ACTIVE, ends_at__gt=now
        ).values_list("worker_id", "starts_at", "ends_at"):
            self.busy.setdefault(worker_id, []).append((timezone.localtime(starts), timezone.localtime(ends)))

    def nearest_areas(self, wf: WorkerFacts) -> list[int]:
        key = wf.area_id
        if key not in self.near_areas:
            centres = self._centres  # type: ignore[attr-defined]
            if wf.area_id in centres:
                here = centres[wf.area_id]
            elif wf.lat is not None:
                here = (wf.lat, wf.lng)
            else:
                self.near_areas[key] = [a for a in centres if self.areas.town(a) == wf.town_id][:NEAR_AREAS]
                return self.near_areas[key]
            ordered = sorted(centres, key=lambda a: scoring.distance_km(*here, *centres[a]))
            self.near_areas[key] = ordered[:NEAR_AREAS]
        return self.near_areas[key]

    def allowed(self, wf: WorkerFacts, posts: list[PostFacts]) -> list[PostFacts]:
        claimed = self.claimed.get(wf.id)
        blocked = self.blocked.get(wf.id)
        members = self.member_of.get(wf.id)
        busy = self.busy.get(wf.id)
        if not (claimed or blocked or members or busy):
            return posts
        out = []
        for p in posts:
            if claimed and p.id in claimed:
                continue
            if (blocked and p.employer_id in blocked) or (members and p.employer_id in members):
                continue
            if busy and any(s < p.ends_at and e > p.starts_at for s, e in busy):
                continue
            out.append(p)
        return out

    def candidates(self, wf: WorkerFacts) -> list[PostFacts]:
        seen: set[int] = set()
        out: list[PostFacts] = []
        areas = self.nearest_areas(wf)
        for trade_id in wf.wanted:
            for area_id in areas:
                for p in self.by_cell.get((trade_id, area_id), ())[:CELL_CAP]:
                    if p.id not in seen:
                        seen.add(p.id)
                        out.append(p)
            for p in self.city_best.get(trade_id, ())[:CITY_BEST]:
                if p.id not in seen:
                    seen.add(p.id)
                    out.append(p)
        return self.allowed(wf, out)

    def best(
        self, wf: WorkerFacts, n: int, max_cells: int | None
    ) -> tuple[list[tuple[float, PostFacts, str]], bool]:
        """Top ``n``, each scored and explained. Without ``max_cells`` (and ``SEARCH == "vectors"``): the
        trades best bound first, each scored in arrays (:mod:`matching.vectors`, always exact). Otherwise
        the retrieval's candidates first, then branch and bound over the cells (exact when it finishes
        within ``max_cells``)."""
        if max_cells is None and SEARCH == "vectors":
            ranked = vectors.top_posts(wf, self.trade_vectors, self.weights, n, vectors.gates_for(self, wf))
            return self.explain(wf, ranked), True
        seed = scoring.rank_posts(wf, self.candidates(wf), self.weights, n)
        ranked, exact = bounded.top_posts(
            wf, self.trade_cells, self.weights, n, self.allowed, seed, max_cells=max_cells
        )
        return self.explain(wf, ranked), exact

    def explain(
        self, wf: WorkerFacts, ranked: list[tuple[float, PostFacts]]
    ) -> list[tuple[float, PostFacts, str]]:
        w = self.weights
        out = []
        for _, p in ranked:
            fit = scoring.evaluate(wf, p, w)
            if fit is not None:
                out.append((fit.score, p, scoring.reason(wf, p, fit, w=w)))
        return out


def _workers(*, only: list[int] | None = None):
    qs = WorkerProfile.objects.filter(user__role=User.Role.SEEKER, user__is_active=True)
    if only is not None:
        qs = qs.filter(user_id__in=only)
    return qs.order_by("pk")


def _wanted_all(only: list[int] | None = None) -> dict[int, list[int]]:
    through = WorkerProfile.wanted_trades.through
    qs = through.objects.all()
    if only is not None:
        qs = qs.filter(workerprofile__user_id__in=only)
    wanted: dict[int, list[int]] = {}
    for profile_id, trade_id in qs.values_list("workerprofile_id", "trade_id").iterator(chunk_size=50_000):
        wanted.setdefault(profile_id, []).append(trade_id)
    return wanted


def _facts_stream(index: CityIndex, *, only: list[int] | None = None, chunk: int = 10_000):
    wanted = _wanted_all(only)
    certs = valid_certificates(only) if only is not None else _all_certificates()
    for row in _workers(only=only).values(*PROFILE_FIELDS).iterator(chunk_size=chunk):
        yield worker_facts(
            row,
            wanted=wanted.get(row["pk"], []),
            certificates=certs.get(row["user_id"], frozenset()),
            areas=index.areas,
            trades=index.trades,
        )


def _all_certificates() -> dict[int, frozenset[int]]:
    held: dict[int, set[int]] = {}
    for user_id, type_id in Certificate.objects.filter(
        status=Certificate.Status.APPROVED, expires_on__gte=timezone.localdate()
    ).values_list("user_id", "cert_type_id"):
        held.setdefault(user_id, set()).add(type_id)
    return {k: frozenset(v) for k, v in held.items()}


def _copy(rows: io.StringIO) -> None:
    rows.seek(0)
    with connection.cursor() as cursor:
        raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
        raw.copy_expert(
            f"COPY {Suggestion._meta.db_table} (worker_id, post_id, rank, score, reason, computed_at) "
            "FROM STDIN WITH (FORMAT text)",
            rows,
        )


def _replace_slice(worker_ids: list[int], rows, *, now: dt.datetime, postgres: bool) -> None:
    """One slice of seekers: their old suggestions out and the new ones in, in one short transaction. A
    reader sees each seeker's old set or new set, never a mix, and never waits: plain reads take no lock
    that a row deletion conflicts with."""
    with transaction.atomic():
        Suggestion.objects.filter(worker_id__in=worker_ids).delete()
        if postgres:
            stamp = now.isoformat()
            buffer = io.StringIO(
                "".join(f"{w}\t{p}\t{r}\t{s}\t{_escape(why)}\t{stamp}\n" for w, p, r, s, why in rows)
            )
            if rows:
                _copy(buffer)
        else:
            Suggestion.objects.bulk_create(
                [
                    Suggestion(worker_id=w, post_id=p, rank=r, score=s, reason=why, computed_at=now)
                    for w, p, r, s, why in rows
                ],
                batch_size=2000,
            )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


SLICE_WORKERS = 2000  # seekers ranked per task and replaced per transaction
_INDEX: CityIndex | None = None  # set before forking the ranking processes, which inherit it
_TOP = 10
_MAX_CELLS: int | None = None


def _rank_chunk(chunk: list[WorkerFacts]) -> tuple[list[tuple[int, int, int, float, str]], int]:
    index = _INDEX
    rows = []
    exact = 0
    for wf in chunk:
        best, finished = index.best(wf, _TOP, _MAX_CELLS)
        exact += finished
        for rank, (score, p, why) in enumerate(best, start=1):
            rows.append((wf.id, p.id, rank, score, why))
    return rows, exact


def _chunks(stream, size: int, limit: int | None):
    chunk: list[WorkerFacts] = []
    for taken, wf in enumerate(stream):
        if limit is not None and taken >= limit:
            break
        chunk.append(wf)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def recompute_city(
    *,
    top: int | None = None,
    progress: bool = True,
    now: dt.datetime | None = None,
    limit: int | None = None,
    processes: int | None = None,
) -> dict:
    """Recompute every seeker's top posts and replace the stored suggestions slice by slice
    (``SLICE_WORKERS`` seekers per short transaction), then drop the rows of seekers this run did not
    rank. Never a table lock: readers (the digest, 为你推荐) are served the old rows or the new ones
    throughout, never made to wait. Ranking runs in ``processes`` forked processes (PostgreSQL; they never
    touch the database: the parent streams seekers to them and writes their rows with COPY). Returns counts
    and timings."""
    import multiprocessing
    from collections import deque

    global _INDEX, _TOP, _MAX_CELLS
    now = now or timezone.now()
    _MAX_CELLS = _cfg("MATCHING_BATCH_MAX_CELLS", None)
    top = top or _cfg("MATCHING_BATCH_TOP", 10)
    processes = processes or _cfg("MATCHING_BATCH_PROCESSES", 2)
    started = time.monotonic()
    with transaction.atomic():  # readers of the retrieval index see the old one until the new one is whole
        indexed = worker_index_rebuild()
    index = CityIndex.build(now=now)
    loaded = time.monotonic()
    total = _workers().count() if limit is None else min(limit, _workers().count())
    postgres = connection.vendor == "postgresql"
    _INDEX, _TOP = index, top
    pool = None
    if processes > 1 and postgres and "fork" in multiprocessing.get_all_start_methods():
        pool = multiprocessing.get_context("fork").Pool(processes)
    workers = rows_written = exact = 0
    cpu_before = _cpu_seconds()

    def write(worker_ids: list[int], result: tuple[list[tuple[int, int, int, float, str]], int]) -> None:
        nonlocal rows_written, exact
        rows, finished = result
        exact += finished
        rows_written += len(rows)
        _replace_slice(worker_ids, rows, now=now, postgres=postgres)

    try:
        bar = tqdm(
            total=total, desc="全市推荐", unit="人", file=sys.stderr, disable=not progress, mininterval=1
        )
        in_flight: deque = deque()
        for chunk in _chunks(_facts_stream(index), SLICE_WORKERS, limit):
            workers += len(chunk)
            ids = [wf.id for wf in chunk]
            if pool is None:
                write(ids, _rank_chunk(chunk))
                bar.update(len(chunk))
                continue
            in_flight.append((ids, pool.apply_async(_rank_chunk, (chunk,))))
            while len(in_flight) > processes * 2:
                ids, result = in_flight.popleft()
                write(ids, result.get())
                bar.update(len(ids))
        while in_flight:
            ids, result = in_flight.popleft()
            write(ids, result.get())
            bar.update(len(ids))
        bar.close()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        _INDEX = None
    cpu = {k: round(v - cpu_before[k], 1) if v is not None else None for k, v in _cpu_seconds().items()}
    # Seekers this run did not rank (gone, no longer seekers, or past ``limit``): their rows are stale.
    Suggestion.objects.exclude(computed_at=now).delete()
    if postgres:
        with connection.cursor() as cursor:
            # Most rows were replaced: reclaim the dead ones and refresh the statistics, or the digest's
            # reads are planned on the old table. VACUUM needs autocommit; inside a transaction, ANALYZE.
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(f"{verb} {Suggestion._meta.db_table}")
    finished = time.monotonic()
    return {
        "posts": len(index.posts),
        "indexed": indexed,
        "workers": workers,
        "suggestions": rows_written,
        "exact_share": round(exact / workers, 4) if workers else 1.0,
        "processes": processes if pool is not None else 1,
        "load_seconds": round(loaded - started, 1),
        "rank_seconds": round(finished - loaded, 1),
        "seconds": round(finished - started, 1),
        # CPU of the ranking phase: this process (reading seekers, writing rows), its ranking processes,
        # and its database backend (the DELETEs and COPYs; None where its /proc is not readable)
        "cpu_parent_seconds": cpu["parent"],
        "cpu_rankers_seconds": cpu["rankers"],
        "cpu_database_seconds": cpu["database"],
    }


def _cpu_seconds() -> dict[str, float | None]:
    import os
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # ranking processes, once joined
    database = None
    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
            with open(f"/proc/{pid}/stat") as stat:  # the backend, when it runs on this machine
                fields = stat.read().rsplit(")", 1)[1].split()
            database = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            database = None
    return {
        "parent": own.ru_utime + own.ru_stime,
        "rankers": children.ru_utime + children.ru_stime,
        "database": database,
    }


def brute_force_top(index: CityIndex, user_ids: list[int], *, top: int = 10) -> dict[int, list[int]]:
    """Each seeker ranked against every open post (no retrieval): the reference the batch is checked
    against."""
    result = {}
    for wf in _facts_stream(index, only=user_ids):
        ranked = scoring.rank_posts(wf, index.allowed(wf, index.posts), index.weights, top)
        result[wf.id] = [p.id for _, p in ranked]
    return result


def overlap(batch: dict[int, list[int]], reference: dict[int, list[int]]) -> float:
    """Mean share of the reference top-N found in the batch's top-N."""
    shares = [len(set(batch.get(uid, [])) & set(ref)) / len(ref) for uid, ref in reference.items() if ref]
    return sum(shares) / len(shares) if shares else math.nan
