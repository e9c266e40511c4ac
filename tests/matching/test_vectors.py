"""The batch's array search (matching/vectors.py) gives exactly the brute-force top N — ``rank_posts`` over
every open post the claim gates allow — for thousands of made-up seekers in a made-up city: posts with and
without a position, every pay unit, restricted trades, ties on score, seekers without a position, with a
start date, with claims, blocks, employer memberships and busy hours."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from matching import bounded, scoring, vectors
from matching.batch import CityIndex
from matching.scoring import PostFacts, WorkerFacts

TZ = dt.timezone(dt.timedelta(hours=8))
BASE = dt.datetime(2026, 12, 8, 7, 0, tzinfo=TZ)
CATEGORIES = ("construction", "housekeeping", "delivery")
WORDS = ("搬运", "保洁", "焊工", "电工", "送餐", "育儿")


def _city(seed: int, n_posts: int, n_trades: int = 9):
    rng = random.Random(seed)
    trades = [
        (t, f"工种{t}", CATEGORIES[t % 3], (900 + t) if t % 4 == 3 else None) for t in range(1, n_trades + 1)
    ]
    posts = []
    for i in range(1, n_posts + 1):
        trade_id, name, category, cert = rng.choice(trades)
        area = rng.randint(1, 8)
        start = BASE + dt.timedelta(days=rng.randint(0, 9), hours=rng.choice((0, 1, 6, 12)))
        placed = rng.random() > 0.08
        tie = rng.random() < 0.2  # a common place and pay: equal scores, decided by id
        posts.append(
            PostFacts(
                id=i, trade_id=trade_id, trade_name=name, category=category, cert_type_id=cert,
                employer_id=rng.randint(1, 12), area_id=area, area_name=f"街道{area}", town_id=area // 3,
                district_id=1 if area < 6 else 2,
                lat=(28.9 if tie else 28.9 + rng.uniform(-0.3, 0.3)) if placed else None,
                lng=(120.0 if tie else 120.0 + rng.uniform(-0.3, 0.3)) if placed else None,
                pay_fen=20000 if tie else rng.randrange(1000, 40000, 500),
                pay_unit=rng.choice(("day", "day", "hour", "piece", "job", "class_hour")),
                quantity=float(rng.choice((1, 5, 20))), starts_at=start,
                ends_at=start + dt.timedelta(hours=rng.choice((4, 8, 30, 60))), slots=rng.randint(1, 5),
                slots_left=1, applicants=rng.choice((0, 0, 1, 3, 9)),
                text=f"岗位{i} {name} {rng.choice(WORDS)}",
            )
        )  # fmt: skip
    return trades, posts


def _seeker(rng: random.Random, i: int, trades) -> WorkerFacts:
    wanted = rng.sample(trades, rng.choice((0, 1, 1, 2, 3)))
    placed = rng.random() > 0.1
    area = rng.choice((None, 1, 2, 5, 7))
    return WorkerFacts(
        id=i, wanted=frozenset(t[0] for t in wanted), wanted_names={t[0]: t[1] for t in wanted},
        wanted_categories=frozenset(t[2] for t in wanted),
        skills=tuple(rng.sample(WORDS, rng.choice((0, 1, 2)))),
        expected_pay_fen=rng.choice((None, 0, 15000, 20000, 3000)),
        expected_pay_unit=rng.choice(("day", "hour", "piece", "month")),
        area_id=area, town_id=None if area is None else area // 3, district_id=rng.choice((None, 1, 2)),
        lat=28.9 + rng.uniform(-0.25, 0.25) if placed else None,
        lng=120.0 + rng.uniform(-0.25, 0.25) if placed else None,
        availability=frozenset(rng.choice(([], ["any"], ["weekdays"], ["weekends", "evenings"], ["mornings"]))),
        available_from=rng.choice((None, None, (BASE + dt.timedelta(days=4)).date())),
        max_distance_km=rng.choice((5, 10, 20, 30, 50)), reliability=rng.randint(40, 100),
        stars=rng.choice((None, 3.5, 5.0)), help_tier=rng.choice((0, 0, 2)),
        certificates=frozenset(rng.sample([t[3] for t in trades if t[3]], rng.choice((0, 1)))),
    )  # fmt: skip


def _index(posts, w) -> CityIndex:
    index = CityIndex(areas=None, trades={}, posts=posts, by_cell={}, city_best={}, near_areas={}, weights=w)  # type: ignore[arg-type]
    index.trade_cells = bounded.build_cells(posts)
    index.trade_vectors = vectors.build(posts)
    return index


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_array_search_is_the_brute_force_top_n(seed):
    w = dict(scoring.DEFAULT_WEIGHTS)
    trades, posts = _city(seed, n_posts=1500)
    index = _index(posts, w)
    rng = random.Random(seed * 101)
    full = 0
    for i in range(1, 401):
        wf = _seeker(rng, i, trades)
        if i % 5 == 0:  # claim gates: claimed posts, blocked and own employers, busy hours
            index.claimed[wf.id] = set(rng.sample(range(1, len(posts) + 1), 40))
            index.blocked[wf.id] = {rng.randint(1, 12)}
        if i % 7 == 0:
            index.member_of[wf.id] = {rng.randint(1, 12)}
        if i % 3 == 0:
            start = BASE + dt.timedelta(days=rng.randint(0, 9))
            index.busy[wf.id] = [(start, start + dt.timedelta(hours=10))]
        n = rng.choice((1, 10, 10, 30))
        expected = scoring.rank_posts(wf, index.allowed(wf, posts), w, n)
        got = vectors.top_posts(wf, index.trade_vectors, w, n, vectors.gates_for(index, wf))
        assert [(s, p.id) for s, p in got] == [(s, p.id) for s, p in expected], (seed, i)
        full += len(expected) == n
    assert full > 200  # most seekers have a full list: the search had to cut, not just take everything


def test_ties_on_the_cut_are_decided_by_id_as_rank_posts_does():
    """Many posts with the very same score around the n-th place: the lowest ids win, as in rank_posts."""
    w = dict(scoring.DEFAULT_WEIGHTS)
    start = BASE + dt.timedelta(days=2)
    posts = [
        PostFacts(
            id=i, trade_id=1 + i % 2, trade_name="小工", category="construction", cert_type_id=None,
            employer_id=1, area_id=1, area_name="街道1", town_id=1, district_id=1, lat=28.9, lng=120.0,
            pay_fen=20000, pay_unit="day", quantity=1.0, starts_at=start, ends_at=start + dt.timedelta(hours=8),
            slots=1, slots_left=1, applicants=0, text="小工",
        )
        for i in range(1, 60)
    ]  # fmt: skip
    index = _index(posts, w)
    wf = WorkerFacts(
        id=1, wanted=frozenset({1, 2}), wanted_names={}, wanted_categories=frozenset({"construction"}),
        skills=(), expected_pay_fen=20000, expected_pay_unit="day", area_id=1, town_id=1, district_id=1,
        lat=28.91, lng=120.01, availability=frozenset(), available_from=None, max_distance_km=10,
        reliability=90, stars=None, help_tier=0, certificates=frozenset(),
    )  # fmt: skip
    got = vectors.top_posts(wf, index.trade_vectors, w, 10)
    assert [p.id for _, p in got] == list(range(1, 11))
    assert got == scoring.rank_posts(wf, posts, w, 10)
