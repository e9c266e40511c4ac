"""Scoring at its edges (matching.scoring): each factor's exact value at the boundaries of its branches
(noon and 18:00, Friday and Saturday, 12 hours of piece work, the travel limit to the metre, a pay ratio
at the clamps), the gates at exactly their limit, every phrase of the reason word for word, and the
batch's unrolled arithmetic (rank_posts) equal to evaluate on pairs that reach every branch."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from matching import scoring
from tests.matching.test_scoring import MONDAY_8, SATURDAY_19, km_east, post, worker

FRIDAY_23 = dt.datetime(2026, 11, 27, 23, 0)
SUNDAY_10 = dt.datetime(2026, 11, 29, 10, 0)


# ------------------------------------------------------------------------------------------ post facts


@pytest.mark.parametrize(
    ("starts_at", "day_kind", "period"),
    [
        (MONDAY_8, "weekdays", "mornings"),
        (MONDAY_8.replace(hour=11, minute=59), "weekdays", "mornings"),
        (MONDAY_8.replace(hour=12), "weekdays", "afternoons"),
        (MONDAY_8.replace(hour=17, minute=59), "weekdays", "afternoons"),
        (MONDAY_8.replace(hour=18), "weekdays", "evenings"),
        (FRIDAY_23, "weekdays", "evenings"),
        (SATURDAY_19.replace(hour=0), "weekends", "mornings"),
        (SUNDAY_10, "weekends", "mornings"),
    ],
)
def test_day_kind_and_period_of_the_start(starts_at, day_kind, period):
    p = post(starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2))
    assert (p.day_kind, p.period) == (day_kind, period)


@pytest.mark.parametrize(
    ("applicants", "slots", "share"), [(0, 2, 1.0), (2, 2, 0.5), (3, 1, 0.25), (1, 0, 0.5), (0, 0, 1.0)]
)
def test_fair_share_is_one_over_one_plus_applicants_per_slot(applicants, slots, share):
    assert post(applicants=applicants, slots=slots).fair_share == share


@pytest.mark.parametrize(
    ("unit", "pay_fen", "quantity", "hours", "day_pay"),
    [
        ("hour", 3000, 1.0, 8, 24000),
        ("class_hour", 5000, 1.0, 2, 40000),
        ("day", 20000, 3.0, 8, 20000.0),  # a day's wage is a day's wage whatever the quantity
        ("piece", 200, 50.0, 12, 10000.0),  # up to 12 hours: one day
        ("job", 30000, 1.0, 13, 30000.0),  # 13 hours still rounds to one day
        ("job", 30000, 1.0, 35, 30000.0),  # 1.46 days: one
        ("job", 30000, 1.0, 37, 15000.0),  # 1.54 days: two
        ("job", 30000, 1.0, 72, 10000.0),
    ],
)
def test_day_equivalent_of_a_posts_pay(unit, pay_fen, quantity, hours, day_pay):
    p = post(pay_unit=unit, pay_fen=pay_fen, quantity=quantity, ends_at=MONDAY_8 + dt.timedelta(hours=hours))
    assert p.day_pay == day_pay


# -------------------------------------------------------------------------------------------- distance


def test_distance_is_111_195_km_a_degree_scaled_by_the_cosine_of_the_mean_latitude():
    assert scoring.distance_km(0.0, 120.0, 1.0, 120.0) == pytest.approx(111.195, rel=1e-12)
    assert scoring.distance_km(0.0, 120.0, 0.0, 121.0) == pytest.approx(111.195, rel=1e-12)
    assert scoring.distance_km(59.0, 120.0, 61.0, 120.0) == pytest.approx(2 * 111.195, rel=1e-12)
    assert scoring.distance_km(60.0, 120.0, 60.0, 122.0) == pytest.approx(111.195, rel=1e-9)  # cos 60° = ½
    assert scoring.distance_km(59.0, 120.0, 61.0, 122.0) == pytest.approx(111.195 * 5**0.5, rel=1e-3)


# ---------------------------------------------------------------------------------------------- gates


def test_the_travel_limit_itself_is_within_reach():
    w = worker(max_distance_km=5)
    at_limit = post(lat=w.lat, lng=w.lng)  # moved below to exactly 5 km
    dist = scoring.distance_km(w.lat, w.lng, at_limit.lat, km_east(5))
    w = worker(max_distance_km=dist)
    fit = scoring.evaluate(w, post(lng=km_east(5)))
    assert fit is not None and fit.parts["distance"] == 0.0 and fit.distance_km == dist
    assert scoring.evaluate(worker(max_distance_km=dist * 0.999999), post(lng=km_east(5))) is None


def test_available_from_the_day_of_the_start():
    assert scoring.evaluate(worker(available_from=MONDAY_8.date()), post()) is not None
    assert scoring.evaluate(worker(available_from=MONDAY_8.date() + dt.timedelta(days=1)), post()) is None


def test_a_certificate_of_another_type_does_not_open_a_restricted_trade():
    assert scoring.evaluate(worker(certificates=frozenset({8})), post(cert_type_id=7)) is None
    fit = scoring.evaluate(worker(certificates=frozenset({7, 8})), post(cert_type_id=7))
    assert fit.parts["certificate"] == 1.0
    assert scoring.evaluate(worker(), post()).parts["certificate"] == 0.5


# -------------------------------------------------------------------------------------------- factors


@pytest.mark.parametrize(
    ("where", "near"),
    [
        ({"area_id": 100, "town_id": 200, "district_id": 1}, 1.0),
        ({"area_id": 101, "town_id": 100, "district_id": 1}, 0.6),
        ({"area_id": 101, "town_id": 101, "district_id": 1}, 0.3),
        ({"area_id": 101, "town_id": None, "district_id": 1}, 0.3),
        ({"area_id": 101, "town_id": 101, "district_id": 2}, 0.0),
    ],
)
def test_nearness_without_coordinates_by_area_town_district(where, near):
    w = worker(lat=None, lng=None, area_id=100, town_id=100, district_id=1)
    fit = scoring.evaluate(w, post(**where))
    assert fit.parts["distance"] == near and fit.distance_km is None


def test_a_worker_without_a_town_is_not_near_a_post_without_one():
    w = worker(lat=None, lng=None, area_id=None, town_id=None, district_id=None)
    assert scoring.evaluate(w, post(town_id=None)).parts["distance"] == 0.0


def test_without_the_workers_coordinates_the_area_decides():
    assert scoring.evaluate(worker(lat=None, lng=None), post()).parts["distance"] == 1.0
    assert scoring.evaluate(worker(), post(lat=None, lng=None)).parts["distance"] == 1.0


def test_nearness_falls_linearly_to_the_travel_limit():
    fit = scoring.evaluate(worker(max_distance_km=20), post(lng=km_east(5)))
    assert fit.parts["distance"] == pytest.approx(1 - fit.distance_km / 20)
    assert 4.9 < fit.distance_km < 5.1


@pytest.mark.parametrize(
    ("pay_fen", "pay"),
    [(20000, 0.5), (24000, 0.75), (28000, 1.0), (40000, 1.0), (16000, 0.25), (12000, 0.0), (4000, 0.0)],
)
def test_pay_against_the_expectation_clamped_to_0_and_1(pay_fen, pay):
    assert scoring.evaluate(worker(), post(pay_fen=pay_fen)).parts["pay"] == pytest.approx(pay)


@pytest.mark.parametrize(
    ("expected", "unit", "post_pay", "post_unit", "pay"),
    [
        (None, "day", 20000, "day", 0.5),  # no expectation
        (0, "day", 20000, "day", 0.5),
        (2500, "hour", 20000, "day", 0.5),  # 25/h × 8 = 200/day
        (2500, "class_hour", 24000, "day", 0.75),
        (20000, "day", 3000, "hour", 0.75),  # 30/h × 8 = 240
        (300, "piece", 300, "piece", 0.5),  # same unit: compared as such
        (300, "piece", 20000, "day", 0.5),  # a piece rate says nothing of a day's wage
        (20000, "day", 300, "piece", 1.0),  # 300 × 1 a day against 200: the post's day pay is known
    ],
)
def test_pay_across_units(expected, unit, post_pay, post_unit, pay):
    w = worker(expected_pay_fen=expected, expected_pay_unit=unit)
    p = post(pay_fen=post_pay, pay_unit=post_unit, quantity=100.0 if post_unit == "piece" else 1.0)
    assert scoring.evaluate(w, p).parts["pay"] == pytest.approx(pay)


@pytest.mark.parametrize(
    ("availability", "starts_at", "value"),
    [
        (frozenset(), MONDAY_8, 1.0),
        (frozenset({"any", "weekends"}), MONDAY_8, 1.0),
        (frozenset({"weekdays"}), MONDAY_8, 1.0),
        (frozenset({"weekends"}), MONDAY_8, 0.5),
        (frozenset({"mornings"}), MONDAY_8, 1.0),
        (frozenset({"evenings"}), MONDAY_8, 0.5),
        (frozenset({"weekdays", "evenings"}), MONDAY_8, 0.5),
        (frozenset({"weekends", "mornings"}), MONDAY_8, 0.5),
        (frozenset({"weekends", "evenings"}), MONDAY_8, 0.1),
        (frozenset({"weekends", "evenings"}), SATURDAY_19, 1.0),
    ],
)
def test_availability_day_and_period_each_count(availability, starts_at, value):
    p = post(starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=3))
    assert scoring.evaluate(worker(availability=availability), p).parts["availability"] == value


@pytest.mark.parametrize(("stars", "rating"), [(None, 0.6), (1.0, 0.0), (3.0, 0.5), (5.0, 1.0)])
def test_rating_from_one_to_five_stars(stars, rating):
    assert scoring.evaluate(worker(stars=stars), post()).parts["rating"] == rating


def test_every_part_and_the_score_of_one_pair():
    w = worker(reliability=80, stars=4.0, help_tier=1, skills=("搬砖",), max_distance_km=10)
    p = post(lat=None, town_id=300, pay_fen=24000, applicants=2, slots=2)
    fit = scoring.evaluate(w, p)
    assert fit.parts == {
        "trade": 1.0,
        "skills": 1.0,
        "certificate": 0.5,
        "distance": 1.0,
        "pay": 0.75,
        "availability": 1.0,
        "reliability": 0.8,
        "rating": 0.75,
        "fair_share": 0.5,
        "help": pytest.approx(1 / 3),
    }
    # 27 + 6 + 2 + 20 + 11.25 + 10 + 5.6 + 2.25 + 2.5 + 1
    assert fit.score == 87.6 and fit.distance_km is None


def test_the_score_is_rounded_to_two_places_and_weights_are_read_from_settings(settings):
    settings.MATCHING_WEIGHTS = {"help": 10.0}
    fit = scoring.evaluate(worker(help_tier=1), post(pay_fen=24000))
    assert fit.score == round(fit.score, 2)
    assert scoring.weights() == {**scoring.DEFAULT_WEIGHTS, "help": 10.0}
    base = scoring.evaluate(worker(help_tier=0), post(pay_fen=24000))
    assert fit.score - base.score == pytest.approx(10 / 3, abs=0.01)
    settings.MATCHING_WEIGHTS = None
    assert scoring.weights() == scoring.DEFAULT_WEIGHTS


# -------------------------------------------------------------------------------------------- reasons


def reason(w, p, **kw):
    return scoring.reason(w, p, scoring.evaluate(w, p), **kw)


def test_reason_names_the_related_trade():
    p = post(trade_id=11, trade_name="瓦工", lat=None, lng=None, area_id=999, town_id=None, district_id=9)
    assert reason(worker(skills=(), expected_pay_fen=None), p, most=1) == "同类活：瓦工"


def test_reason_uses_the_workers_own_name_for_the_trade():
    w = worker(wanted_names={10: "普工"}, skills=())
    assert reason(w, post(lat=None, lng=None, area_id=999, town_id=None), most=1) == "想干普工"
    w = worker(wanted_names={}, skills=())
    assert reason(w, post(lat=None, lng=None, area_id=999, town_id=None), most=1) == "想干小工"


def test_reason_for_a_skill_starting_with_hui_is_not_doubled():
    w = worker(
        wanted=frozenset(), wanted_categories=frozenset(), skills=("做饭", "会开叉车"), expected_pay_fen=None
    )
    p = post(text="仓库招会开叉车的师傅", lat=None, lng=None, area_id=999, town_id=None)
    assert reason(w, p, most=1) == "会开叉车"


@pytest.mark.parametrize(
    ("km", "for_employer", "text"),
    [
        (0.5, False, "离您不到1公里"),
        (0.999, False, "离您不到1公里"),
        (1.0, True, "离工作地点1公里"),
        (2.6, False, "离您3公里"),
        (2.4, True, "离工作地点2公里"),
    ],
)
def test_distance_phrases(km, for_employer, text):
    w = worker(wanted=frozenset(), wanted_categories=frozenset(), skills=(), expected_pay_fen=None)
    p = post(lng=km_east(km))
    fit = scoring.evaluate(w, p)
    fit.distance_km = km  # the phrase's own rounding, not km_east's
    assert scoring.reason(w, p, fit, for_employer=for_employer, most=1) == text


def test_the_area_is_named_when_there_are_no_coordinates():
    w = worker(lat=None, lng=None, wanted=frozenset(), wanted_categories=frozenset(), skills=())
    assert reason(w, post(), most=1) == "就在西城街道"


def test_a_far_post_says_nothing_of_distance():
    w = worker(max_distance_km=10, wanted=frozenset(), wanted_categories=frozenset(), skills=(), stars=None)
    p = post(lng=km_east(7.5), applicants=4, slots=2)  # nearness 0.25: under 0.3
    assert "公里" not in reason(w, p, most=5)
    p = post(lng=km_east(6.5), applicants=4, slots=2)  # 0.35
    assert "离您6公里" in reason(w, p, most=5) or "离您7公里" in reason(w, p, most=5)


@pytest.mark.parametrize(
    ("pay_fen", "unit", "text"),
    [
        (21000, "day", "日薪高于期望"),  # ratio 1.05
        (20999, "day", "日薪符合期望"),
        (19000, "day", "日薪符合期望"),  # 0.95
        (18999, "day", None),
        (2500, "hour", "时薪符合期望"),
        (5000, "class_hour", "课时费高于期望"),
    ],
)
def test_pay_phrases_at_95_and_105_percent(pay_fen, unit, text):
    w = worker(wanted=frozenset(), wanted_categories=frozenset(), skills=(), lat=None, area_id=None)
    p = post(pay_fen=pay_fen, pay_unit=unit, applicants=4, slots=2)
    said = reason(w, p, most=1)
    assert said == text if text else "期望" not in said


def test_piece_and_job_pay_are_named_by_their_unit():
    w = worker(
        expected_pay_fen=300,
        expected_pay_unit="piece",
        wanted=frozenset(),
        wanted_categories=frozenset(),
        skills=(),
        lat=None,
        area_id=None,
    )
    assert reason(w, post(pay_fen=400, pay_unit="piece", applicants=4), most=1) == "计件价高于期望"
    w = worker(
        expected_pay_fen=300,
        expected_pay_unit="job",
        wanted=frozenset(),
        wanted_categories=frozenset(),
        skills=(),
        lat=None,
        area_id=None,
    )
    assert reason(w, post(pay_fen=300, pay_unit="job", applicants=4), most=1) == "报酬符合期望"


@pytest.mark.parametrize(
    ("availability", "starts_at", "text"),
    [
        (frozenset({"weekends"}), SATURDAY_19, "周末有空"),
        (frozenset({"evenings"}), SATURDAY_19, "晚上有空"),
        (frozenset({"weekdays", "mornings"}), MONDAY_8, "工作日有空"),
        (frozenset({"afternoons"}), MONDAY_8.replace(hour=14), "下午有空"),
        (frozenset({"any"}), MONDAY_8, "综合匹配"),  # no particular time: nothing to say
    ],
)
def test_availability_phrases(availability, starts_at, text):
    w = worker(
        availability=availability, wanted=frozenset(), wanted_categories=frozenset(), skills=(), lat=None,
        area_id=None, expected_pay_fen=None,
    )  # fmt: skip
    p = post(starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=3), applicants=4, slots=2)
    assert reason(w, p, most=1) == text


@pytest.mark.parametrize(
    ("stars", "reliability", "text"),
    [
        (4.0, 90, "评分4星 · 靠谱分90"),
        (3.9, 89, "综合匹配"),
        (4.5, 50, "评分4.5星"),
        (None, 100, "靠谱分100"),
    ],
)
def test_employer_phrases_for_stars_from_4_and_reliability_from_90(stars, reliability, text):
    w = worker(
        stars=stars, reliability=reliability, wanted=frozenset(), wanted_categories=frozenset(), skills=(),
        lat=None, area_id=None, expected_pay_fen=None,
    )  # fmt: skip
    assert reason(w, post(applicants=0), for_employer=True, most=5) == text


@pytest.mark.parametrize(
    ("applicants", "slots", "said"), [(0, 0, True), (0, 2, True), (1, 4, True), (2, 4, False), (1, 1, False)]
)
def test_few_applicants_under_half_a_slot_each(applicants, slots, said):
    w = worker(
        wanted=frozenset(),
        wanted_categories=frozenset(),
        skills=(),
        lat=None,
        area_id=None,
        expected_pay_fen=None,
    )
    assert (reason(w, post(applicants=applicants, slots=slots), most=3) == "报名人少") is said


def test_reasons_are_the_heaviest_factors_in_the_order_they_are_listed():
    w = worker(skills=("搬砖",), availability=frozenset({"weekdays"}))
    p = post(lng=km_east(3), pay_fen=24000, applicants=0)
    assert reason(w, p, most=6) == "想干小工 · 会搬砖 · 离您3公里 · 日薪高于期望 · 工作日有空 · 报名人少"
    assert reason(w, p, most=2) == "想干小工 · 离您3公里"  # trade 27, distance 17: the two heaviest
    assert reason(w, p, most=3) == "想干小工 · 离您3公里 · 日薪高于期望"


def test_ties_keep_the_listed_order_and_the_text_is_at_most_120_characters(settings):
    settings.MATCHING_WEIGHTS = dict.fromkeys(scoring.DEFAULT_WEIGHTS, 1.0)
    w = worker(skills=("搬砖",), availability=frozenset({"weekdays"}), lat=None)
    p = post(pay_fen=28000, applicants=0)
    assert reason(w, p, most=2) == "想干小工 · 会搬砖"
    long = worker(wanted_names={10: "工" * 200}, skills=())
    assert reason(long, p, most=1) == "想干" + "工" * 118


# -------------------------------------------------------------------------------- the batch's arithmetic


def _city(rng: random.Random) -> list:
    posts = []
    for i in range(300):
        start = MONDAY_8 + dt.timedelta(days=rng.randint(0, 6), hours=rng.choice((-8, 0, 4, 10, 12)))
        unit = rng.choice(("day", "hour", "class_hour", "piece", "job"))
        located = rng.random() < 0.8
        posts.append(
            post(
                id=i + 1,
                trade_id=rng.choice((10, 11, 12)),
                category=rng.choice(("construction", "housekeeping")),
                cert_type_id=rng.choice((None, None, None, 7, 8)),
                area_id=rng.randint(1, 4),
                town_id=rng.choice((None, 1, 2)),
                district_id=rng.randint(1, 2),
                lat=28.85 + rng.random() * 0.1 if located else None,
                lng=119.98 + rng.random() * 0.1 if located else None,
                pay_fen=rng.randint(100, 30000),
                pay_unit=unit,
                quantity=float(rng.randint(1, 50)),
                starts_at=start,
                ends_at=start + dt.timedelta(hours=rng.choice((3, 8, 12, 30, 50))),
                applicants=rng.randint(0, 6),
                slots=rng.randint(1, 4),
                text=rng.choice(("搬砖 砌墙", "擦玻璃", "装卸 搬运", "小工")),
            )
        )
    return posts


def test_rank_posts_scores_every_pair_as_evaluate_does():
    rng = random.Random(21)
    posts = _city(rng)
    w = {k: v + rng.random() for k, v in scoring.DEFAULT_WEIGHTS.items()}  # no two weights alike
    for j in range(60):
        located = rng.random() < 0.7
        seeker = worker(
            id=j,
            wanted=frozenset(rng.sample([10, 11, 12], rng.randint(0, 2))),
            wanted_categories=frozenset(rng.sample(["construction", "housekeeping"], rng.randint(0, 1))),
            skills=tuple(rng.sample(["砌墙", "搬运", "做饭"], rng.randint(0, 2))),
            expected_pay_fen=rng.choice((None, 0, rng.randint(100, 30000))),
            expected_pay_unit=rng.choice(("day", "hour", "class_hour", "piece")),
            area_id=rng.choice((None, 1, 2)),
            town_id=rng.choice((None, 1)),
            district_id=rng.choice((None, 1)),
            lat=28.85 + rng.random() * 0.1 if located else None,
            lng=119.98 + rng.random() * 0.1 if located else None,
            availability=frozenset(
                rng.choice(
                    ([], ["any"], ["weekends"], ["weekdays", "mornings"], ["evenings"], ["afternoons"])
                )
            ),
            available_from=rng.choice((None, (MONDAY_8 + dt.timedelta(days=rng.randint(0, 6))).date())),
            max_distance_km=rng.choice((3, 5, 10)),
            reliability=rng.randint(0, 100),
            stars=rng.choice((None, 1.0, 3.5, 5.0)),
            help_tier=rng.randint(0, 3),
            certificates=frozenset(rng.sample([7, 8], rng.randint(0, 2))),
        )
        fits = [(scoring.evaluate(seeker, p, w), p) for p in posts]
        expected = sorted(((f.score, p) for f, p in fits if f is not None), key=lambda t: (-t[0], t[1].id))
        ranked = scoring.rank_posts(seeker, posts, w, len(posts))
        assert [(s, p.id) for s, p in ranked] == [(s, p.id) for s, p in expected], j
        assert scoring.rank_posts(seeker, posts, w, 5) == ranked[:5]


def test_a_related_trade_comes_first_among_the_reasons():
    p = post(
        trade_id=11,
        trade_name="瓦工",
        lat=None,
        lng=None,
        area_id=999,
        town_id=None,
        district_id=9,
        text="砌墙",
    )
    w = worker(skills=("砌墙",), expected_pay_fen=None)
    assert reason(w, p, most=2) == "同类活：瓦工 · 会砌墙"


def test_without_coordinates_only_the_same_area_is_named():
    w = worker(
        lat=None,
        lng=None,
        wanted=frozenset(),
        wanted_categories=frozenset(),
        skills=(),
        expected_pay_fen=None,
    )
    p = post(area_id=101, area_name="东城街道", town_id=100, applicants=4, slots=2)  # same town: nearness 0.6
    assert "就在" not in reason(w, p, most=5)


# ------------------------------------------------------------- the survivors of the first full mutation run


def test_without_the_setting_the_default_weights_apply(settings):
    del settings.MATCHING_WEIGHTS
    assert scoring.weights() == scoring.DEFAULT_WEIGHTS


@pytest.mark.parametrize(("hours", "day_pay"), [(35.99, 30000.0), (36, 15000.0), (47, 15000.0)])
def test_a_job_of_36_hours_is_two_days(hours, day_pay):
    """Over 12 hours the days are the hours / 24 rounded: 1.5 days (36 hours) is the first that counts as 2."""
    ends = MONDAY_8 + dt.timedelta(hours=hours)
    assert post(pay_unit="job", pay_fen=30000, ends_at=ends).day_pay == day_pay


@pytest.mark.parametrize(
    ("unit", "expected", "pay"), [("hour", 2500, 0.75), ("hour", 4000, 0.1875), ("class_hour", 2000, 1.0)]
)
def test_an_hourly_expectation_is_eight_hours_against_a_days_pay(unit, expected, pay):
    """A 240 元 day against 25 元/h expected (200 a day): ratio 1.2, pay 0.75; against 40 元/h (320): 0.75,
    pay 0.1875; against 20 元/h (160): 1.5, clamped to 1."""
    w = worker(expected_pay_fen=expected, expected_pay_unit=unit)
    assert scoring.evaluate(w, post(pay_fen=24000, pay_unit="day")).parts["pay"] == pytest.approx(pay)


def test_the_certificate_phrase_word_for_word():
    holder = worker(
        certificates=frozenset({7}), wanted=frozenset(), wanted_categories=frozenset(), skills=(),
        lat=None, area_id=None, expected_pay_fen=None,
    )  # fmt: skip
    assert reason(holder, post(cert_type_id=7, applicants=4, slots=2), most=3) == "持有效证书"


def test_nearness_of_exactly_0_3_is_named():
    w = worker(
        max_distance_km=10,
        wanted=frozenset(),
        wanted_categories=frozenset(),
        skills=(),
        expected_pay_fen=None,
    )
    p = post(lng=km_east(7), applicants=4, slots=2)
    fit = scoring.evaluate(w, p)
    fit.parts["distance"], fit.distance_km = 0.3, 7.0  # 1 - 7/10 in exact arithmetic
    assert scoring.reason(w, p, fit, most=1) == "离您7公里"
    fit.parts["distance"] = 0.2999
    assert "公里" not in scoring.reason(w, p, fit, most=5)


def test_a_pay_unit_without_a_word_of_its_own_is_called_baochou():
    w = worker(
        expected_pay_fen=300, expected_pay_unit="shift", wanted=frozenset(), wanted_categories=frozenset(),
        skills=(), lat=None, area_id=None,
    )  # fmt: skip
    assert reason(w, post(pay_fen=400, pay_unit="shift", applicants=4), most=1) == "报酬高于期望"


def _every_branch():
    """Seekers and posts that between them reach every branch of the score, including the rare ones: a
    time of "any" beside days, a piece-rate expectation against a day's pay (no ratio), a post exactly at
    the travel limit."""
    posts = []
    for i, (unit, pay_fen) in enumerate((("day", 20000), ("hour", 2600), ("piece", 300), ("job", 50000))):
        for j, start in enumerate((MONDAY_8, SATURDAY_19)):
            posts.append(
                post(
                    id=10 * i + j + 1,
                    pay_unit=unit,
                    pay_fen=pay_fen,
                    quantity=80.0,
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=8),
                    lng=km_east(1 + i + j),
                )
            )
    at_limit = scoring.distance_km(28.90, 120.03, 28.90, km_east(4))
    seekers = [
        worker(id=1, availability=frozenset({"any", "weekends"})),
        worker(id=2, availability=frozenset({"any", "mornings", "weekdays"})),
        worker(id=3, expected_pay_fen=250, expected_pay_unit="piece"),
        worker(id=4, expected_pay_fen=2500, expected_pay_unit="hour"),
        worker(id=5, expected_pay_fen=2500, expected_pay_unit="class_hour", availability=frozenset()),
        worker(id=6, max_distance_km=at_limit),
        worker(id=7, expected_pay_fen=None),
    ]
    return seekers, posts


def test_rank_posts_equals_evaluate_on_every_branch():
    seekers, posts = _every_branch()
    w = {k: v + 0.1 * n for n, (k, v) in enumerate(scoring.DEFAULT_WEIGHTS.items())}
    for seeker in seekers:
        fits = [(scoring.evaluate(seeker, p, w), p) for p in posts]
        expected = sorted(((f.score, p.id) for f, p in fits if f is not None), key=lambda t: (-t[0], t[1]))
        assert [(s, p.id) for s, p in scoring.rank_posts(seeker, posts, w, len(posts))] == expected, seeker.id
    # reached: a piece-rate expectation against a day's pay has no ratio
    assert scoring._pay_ratio(seekers[2], posts[0]) is None and posts[0].pay_unit == "day"
    # the post at the limit is in, the one beyond it out
    limited = scoring.rank_posts(seekers[5], posts, w, len(posts))
    assert {p.lng for _, p in limited} == {km_east(1), km_east(2), km_east(3), km_east(4)}
