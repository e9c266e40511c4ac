"""Scoring and reasons: pure functions over fact records (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from matching import scoring
from matching.scoring import PostFacts, WorkerFacts

MONDAY_8 = dt.datetime(2026, 11, 23, 8, 0)  # a Monday morning
SATURDAY_19 = dt.datetime(2026, 11, 28, 19, 0)


def worker(**kw) -> WorkerFacts:
    base = {
        "id": 1,
        "wanted": frozenset({10}),
        "wanted_names": {10: "小工"},
        "wanted_categories": frozenset({"construction"}),
        "skills": ("砌墙",),
        "expected_pay_fen": 20000,
        "expected_pay_unit": "day",
        "area_id": 100,
        "town_id": 100,
        "district_id": 1,
        "lat": 28.90,
        "lng": 120.03,
        "availability": frozenset({"any"}),
        "available_from": None,
        "max_distance_km": 20,
        "reliability": 100,
        "stars": None,
        "help_tier": 0,
        "certificates": frozenset(),
    }
    base.update(kw)
    return WorkerFacts(**base)


def post(**kw) -> PostFacts:
    base = {
        "id": 1,
        "trade_id": 10,
        "trade_name": "小工",
        "category": "construction",
        "cert_type_id": None,
        "employer_id": 5,
        "area_id": 100,
        "area_name": "西城街道",
        "town_id": 100,
        "district_id": 1,
        "lat": 28.90,
        "lng": 120.03,
        "pay_fen": 20000,
        "pay_unit": "day",
        "quantity": 1.0,
        "starts_at": MONDAY_8,
        "ends_at": MONDAY_8 + dt.timedelta(hours=9),
        "slots": 2,
        "slots_left": 2,
        "applicants": 0,
        "text": "工地招小工 小工 搬砖",
    }
    base.update(kw)
    return PostFacts(**base)


def km_east(km: float) -> float:
    return 120.03 + km / (scoring.KM_PER_DEGREE * 0.8752)  # cos(28.9°)


def test_wanted_trade_scores_above_other_trades():
    same = scoring.evaluate(worker(), post())
    related = scoring.evaluate(worker(), post(trade_id=11, trade_name="瓦工"))
    unrelated = scoring.evaluate(worker(), post(trade_id=12, trade_name="保洁", category="housekeeping"))
    assert same.score > related.score > unrelated.score
    assert same.parts["trade"] == 1.0 and related.parts["trade"] == 0.4 and unrelated.parts["trade"] == 0.0


def test_nearer_and_better_paid_rank_higher():
    near = scoring.evaluate(worker(), post(lng=km_east(2)))
    far = scoring.evaluate(worker(), post(lng=km_east(15)))
    assert near.score > far.score
    assert round(near.distance_km) == 2 and round(far.distance_km) == 15
    rich = scoring.evaluate(worker(), post(pay_fen=30000))
    poor = scoring.evaluate(worker(), post(pay_fen=12000))
    assert rich.parts["pay"] == 1.0 and poor.parts["pay"] == 0.0
    assert rich.score > poor.score


def test_hourly_pay_is_compared_with_a_daily_expectation():
    # 30 yuan/hour × 8 = 240/day against 200 expected: better than expected
    fit = scoring.evaluate(worker(), post(pay_fen=3000, pay_unit="hour"))
    assert fit.parts["pay"] > 0.5
    assert "时薪高于期望" in scoring.reason(worker(), post(pay_fen=3000, pay_unit="hour"), fit)


def test_gates_shut_the_pair():
    # beyond the travel distance
    assert scoring.evaluate(worker(max_distance_km=5), post(lng=km_east(8))) is None
    # restricted trade without the certificate; with it the pair scores and says so
    welding = post(cert_type_id=7)
    assert scoring.evaluate(worker(), welding) is None
    holder = worker(certificates=frozenset({7}))
    fit = scoring.evaluate(holder, welding)
    assert fit is not None and "持有效证书" in scoring.reason(holder, welding, fit, most=5)
    # not available before a date
    assert scoring.evaluate(worker(available_from=dt.date(2026, 12, 1)), post()) is None


def test_availability_and_fair_share():
    weekend_evening = worker(availability=frozenset({"weekends", "evenings"}))
    assert (
        scoring.evaluate(
            weekend_evening, post(starts_at=SATURDAY_19, ends_at=SATURDAY_19 + dt.timedelta(hours=3))
        ).parts["availability"]
        == 1.0
    )
    assert scoring.evaluate(weekend_evening, post()).parts["availability"] == 0.1
    crowded = scoring.evaluate(worker(), post(applicants=8, slots=2))
    empty = scoring.evaluate(worker(), post(applicants=0, slots=2))
    assert empty.parts["fair_share"] == 1.0 and crowded.parts["fair_share"] == pytest.approx(0.2)
    assert empty.score > crowded.score


def test_reliability_rating_and_help_tier_rank_workers_for_a_post():
    steady = scoring.evaluate(worker(reliability=100, stars=4.8), post())
    flaky = scoring.evaluate(worker(reliability=40, stars=2.0), post())
    assert steady.score > flaky.score
    helped = scoring.evaluate(worker(help_tier=3), post())
    assert helped.score > scoring.evaluate(worker(help_tier=0), post()).score


def test_reason_for_a_seeker_names_the_strongest_factors_in_chinese():
    p = post(lng=km_east(3), pay_fen=24000)
    w = worker()
    text = scoring.reason(w, p, scoring.evaluate(w, p))
    assert text == "想干小工 · 离您3公里 · 日薪高于期望"


def test_reason_for_an_employer_speaks_of_the_workplace_and_never_of_help_tier():
    w = worker(reliability=98, stars=4.6, help_tier=3, skills=())
    p = post(lng=km_east(3))
    text = scoring.reason(w, p, scoring.evaluate(w, p), for_employer=True, most=5)
    assert "离工作地点3公里" in text and "靠谱分98" in text and "评分4.6星" in text
    assert "帮扶" not in text and "困难" not in text


def test_skill_in_the_post_is_a_reason():
    w = worker(wanted=frozenset(), wanted_names={}, wanted_categories=frozenset(), skills=("搬砖",))
    p = post()
    fit = scoring.evaluate(w, p)
    assert fit.parts["skills"] == 1.0
    assert "会搬砖" in scoring.reason(w, p, fit)


def test_weights_come_from_settings(settings):
    settings.MATCHING_WEIGHTS = {**scoring.DEFAULT_WEIGHTS, "distance": 0.0, "pay": 0.0}
    near = scoring.evaluate(worker(), post(lng=km_east(1)))
    far = scoring.evaluate(worker(), post(lng=km_east(15)))
    assert near.score == far.score


def test_branch_and_bound_equals_brute_force_on_a_random_city():
    """matching.bounded: with no cell budget the search returns exactly the brute-force top 10."""
    import random

    from matching import bounded

    rng = random.Random(5)
    trades = [(10, "construction"), (11, "construction"), (12, "housekeeping"), (13, "logistics")]
    posts = []
    for i in range(400):
        trade_id, category = rng.choice(trades)
        start = MONDAY_8 + dt.timedelta(days=rng.randint(0, 6), hours=rng.choice((0, 5, 11)))
        posts.append(
            post(
                id=i + 1,
                trade_id=trade_id,
                category=category,
                area_id=rng.randint(1, 12),
                lat=28.80 + rng.random() * 0.2,
                lng=119.95 + rng.random() * 0.2,
                pay_fen=rng.randint(120, 320) * 100,
                pay_unit=rng.choice(("day", "day", "hour")),
                starts_at=start,
                ends_at=start + dt.timedelta(hours=8),
                applicants=rng.randint(0, 6),
                slots=rng.randint(1, 5),
                text=rng.choice(("搬砖 砌墙", "擦玻璃", "装卸 搬运", "小工")),
            )
        )
    cells = bounded.build_cells(posts)
    w = scoring.weights()
    for j in range(25):
        seeker = worker(
            id=j,
            wanted=frozenset(rng.sample([10, 11, 12, 13], rng.randint(1, 2))),
            lat=28.80 + rng.random() * 0.2,
            lng=119.95 + rng.random() * 0.2,
            max_distance_km=rng.choice((5, 10, 20, 50)),
            expected_pay_fen=rng.randint(150, 280) * 100,
            availability=frozenset(rng.choice((["any"], ["weekends"], ["weekdays", "mornings"]))),
            skills=(rng.choice(("砌墙", "搬运", "做饭")),),
            reliability=rng.randint(40, 100),
        )
        expected = [p.id for _, p in scoring.rank_posts(seeker, posts, w, 10)]
        found, exact = bounded.top_posts(seeker, cells, w, 10, lambda _w, ps: ps)
        assert exact and [p.id for _, p in found] == expected
        # with a budget the result is still a valid ranking of real posts, flagged when not proven exact
        capped, capped_exact = bounded.top_posts(seeker, cells, w, 10, lambda _w, ps: ps, max_cells=1)
        assert [s for s, _ in capped] == sorted((s for s, _ in capped), reverse=True)
        if capped_exact:
            assert [p.id for _, p in capped] == expected
