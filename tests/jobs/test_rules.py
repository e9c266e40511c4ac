"""The order rules (jobs.rules) at their edges: each window exactly at its boundary, one second before and
after; each half of the worker's free-cancel rule on its own; the compensation's floor and ceiling; the
reliability score with completed orders; the distance; and the rules text as users read it, word for
word. No database: these are the numbers the services apply (tests/jobs/test_order_windows.py checks
that the services apply them)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from jobs.rules import Rules, distance_m, reliability, rules

START = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)

DEFAULTS = {
    "FREE_CANCEL_MINUTES": 30,
    "FREE_CANCEL_BEFORE_START_HOURS": 24,
    "EMPLOYER_LATE_CANCEL_HOURS": 12,
    "EMPLOYER_COMPENSATION_RATE": "0.20",
    "EMPLOYER_COMPENSATION_MIN_FEN": 2000,
    "NO_SHOW_GRACE_MINUTES": 30,
    "CHECK_IN_EARLY_MINUTES": 60,
    "CHECK_IN_RADIUS_METERS": 1000,
    "AUTO_APPROVE_HOURS": 24,
    "APPLICATION_TTL_HOURS": 24,
}


@pytest.fixture
def r(settings) -> Rules:
    settings.JOBS_RULES = dict(DEFAULTS)
    return rules()


# ------------------------------------------------------------------------------- reading the settings


def test_every_rule_is_read_from_its_own_setting(settings):
    settings.JOBS_RULES = {
        "FREE_CANCEL_MINUTES": 31,
        "FREE_CANCEL_BEFORE_START_HOURS": 25,
        "EMPLOYER_LATE_CANCEL_HOURS": 13,
        "EMPLOYER_COMPENSATION_RATE": "0.15",
        "EMPLOYER_COMPENSATION_MIN_FEN": "1500",
        "NO_SHOW_GRACE_MINUTES": 45,
        "CHECK_IN_EARLY_MINUTES": 61,
        "CHECK_IN_RADIUS_METERS": "800",
        "AUTO_APPROVE_HOURS": 48,
        "APPLICATION_TTL_HOURS": 6,
    }
    assert rules() == Rules(
        free_cancel=dt.timedelta(minutes=31),
        free_cancel_before_start=dt.timedelta(hours=25),
        employer_late_cancel=dt.timedelta(hours=13),
        compensation_rate=Decimal("0.15"),
        compensation_min_fen=1500,
        no_show_grace=dt.timedelta(minutes=45),
        check_in_early=dt.timedelta(minutes=61),
        check_in_radius_m=800,
        auto_approve=dt.timedelta(hours=48),
        application_ttl=dt.timedelta(hours=6),
    )
    assert type(rules().compensation_min_fen) is int and type(rules().check_in_radius_m) is int


# ------------------------------------------------------------------------------- the worker's cancel


def free(r: Rules, *, confirmed_ago: dt.timedelta, before_start: dt.timedelta) -> bool:
    now = START - before_start
    return r.worker_cancel_is_free(confirmed_at=now - confirmed_ago, starts_at=START, now=now)


@pytest.mark.parametrize(
    ("confirmed_ago", "expected"),
    [
        (dt.timedelta(0), True),
        (30 * MINUTE - SECOND, True),
        (30 * MINUTE, True),
        (30 * MINUTE + SECOND, False),
    ],
)
def test_free_within_30_minutes_of_confirming_even_close_to_the_start(r, confirmed_ago, expected):
    assert free(r, confirmed_ago=confirmed_ago, before_start=HOUR) is expected


@pytest.mark.parametrize(
    ("before_start", "expected"),
    [(24 * HOUR + SECOND, True), (24 * HOUR, True), (24 * HOUR - SECOND, False), (dt.timedelta(0), False)],
)
def test_free_while_24_hours_or_more_remain_even_long_after_confirming(r, before_start, expected):
    assert free(r, confirmed_ago=3 * HOUR, before_start=before_start) is expected


def test_free_when_both_halves_hold(r):
    assert free(r, confirmed_ago=MINUTE, before_start=48 * HOUR) is True


def test_late_when_neither_half_holds_by_one_second_each(r):
    assert free(r, confirmed_ago=30 * MINUTE + SECOND, before_start=24 * HOUR - SECOND) is False


# ------------------------------------------------------------------------------ the employer's cancel


@pytest.mark.parametrize(
    ("before_start", "late"),
    [(12 * HOUR + SECOND, False), (12 * HOUR, False), (12 * HOUR - SECOND, True), (SECOND, True)],
)
def test_an_employer_cancel_is_late_under_12_hours_before_the_start(r, before_start, late):
    assert r.employer_cancel_is_late(starts_at=START, now=START - before_start) is late


@pytest.mark.parametrize(
    ("expected_fen", "compensation"),
    [
        (30000, 6000),  # 20 %
        (20001, 4001),  # 4,000.2 rounds up: the worker never gets less than the rate
        (10000, 2000),  # 20 % is exactly the floor
        (9999, 2000),  # 20 % is under the floor: the floor
        (2001, 2000),
        (2000, 2000),  # the floor is exactly the pay
        (1999, 1999),  # never more than the pay itself
        (0, 0),
    ],
)
def test_compensation_is_the_rate_rounded_up_at_least_the_floor_at_most_the_pay(
    r, expected_fen, compensation
):
    assert r.compensation_fen(expected_fen) == compensation
    assert type(r.compensation_fen(expected_fen)) is int


# ----------------------------------------------------------------------------------------- check-in


@pytest.mark.parametrize(
    ("before_start", "too_early"),
    [(60 * MINUTE + SECOND, True), (60 * MINUTE, False), (60 * MINUTE - SECOND, False), (-HOUR, False)],
)
def test_check_in_opens_60_minutes_before_the_start(r, before_start, too_early):
    assert r.check_in_too_early(starts_at=START, now=START - before_start) is too_early


@pytest.mark.parametrize(("meters", "too_far"), [(0, False), (999.99, False), (1000, False), (1000.01, True)])
def test_check_in_within_1000_metres(r, meters, too_far):
    assert r.check_in_too_far(meters) is too_far


@pytest.mark.parametrize(
    ("after_start", "in_grace"),
    [
        (-SECOND, False),  # not started: an employer may still cancel
        (dt.timedelta(0), True),
        (30 * MINUTE - SECOND, True),
        (30 * MINUTE, False),  # a no-show from here on
        (31 * MINUTE, False),
    ],
)
def test_the_no_show_grace_runs_from_the_start_for_30_minutes(r, after_start, in_grace):
    assert r.in_no_show_grace(starts_at=START, now=START + after_start) is in_grace


# ------------------------------------------------------------------------------------------- the score


@pytest.mark.parametrize(
    ("completed", "no_shows", "late_cancels", "score"),
    [
        (0, 0, 0, 100),  # a new worker
        (9, 0, 0, 100),
        (0, 1, 0, 25),  # 100 × 1 / 4
        (0, 0, 1, 50),  # 100 × 1 / 2
        (2, 1, 0, 50),  # 100 × 3 / 6: completed orders earn trust back
        (3, 0, 1, 80),  # 100 × 4 / 5
        (1, 0, 1, 67),  # 66.7 rounds to the nearest
        (1, 1, 1, 33),  # 100 × 2 / 6
        (4, 2, 3, 36),  # 100 × 5 / 14 = 35.7
        (0, 3, 0, 10),  # 100 × 1 / 10
    ],
)
def test_reliability_is_100_times_c_plus_1_over_c_plus_1_plus_3n_plus_l(
    completed, no_shows, late_cancels, score
):
    assert reliability(completed=completed, no_shows=no_shows, late_cancels=late_cancels) == score


def test_a_no_show_weighs_three_late_cancels():
    assert reliability(completed=5, no_shows=1, late_cancels=0) == reliability(
        completed=5, no_shows=0, late_cancels=3
    )


# ---------------------------------------------------------------------------------------- the distance

EARTH = 6_371_000


def test_one_degree_along_a_meridian_is_r_times_pi_over_180():
    assert distance_m(29.0, 120.0, 30.0, 120.0) == pytest.approx(EARTH * math.pi / 180, rel=1e-12)
    assert distance_m(30.0, 120.0, 29.0, 120.0) == pytest.approx(EARTH * math.pi / 180, rel=1e-12)


def test_one_degree_along_the_equator_is_r_times_pi_over_180():
    assert distance_m(0.0, 120.0, 0.0, 121.0) == pytest.approx(EARTH * math.pi / 180, rel=1e-12)


@pytest.mark.parametrize(
    "points",
    [(28.90, 120.03, 28.905, 120.038), (29.0, 120.0, 31.5, 117.25), (-33.9, 18.4, 51.5, -0.12)],
)
def test_distance_agrees_with_the_spherical_law_of_cosines(points):
    lat1, lng1, lat2, lng2 = points
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    expected = EARTH * math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl))
    assert distance_m(lat1, lng1, lat2, lng2) == pytest.approx(expected, rel=1e-6)


def test_the_same_place_is_zero_metres_away():
    assert distance_m(28.9, 120.03, 28.9, 120.03) == 0.0


# ------------------------------------------------------------------------------------- the rules text


def test_the_rules_text_says_the_numbers_users_are_held_to(r):
    assert r.as_text() == [
        "接单后30分钟内，或离开工还有24小时以上，工人可免费取消；之后取消会降低靠谱分。",
        "雇主在开工前12小时内取消，需补偿工人预计报酬的20%（至少20元）。",
        "开工30分钟后仍未签到，记为未到岗；开工后工人取消，也按未到岗处理；开工后雇主不能取消。",
        "签退时填报的数量不超过岗位的工作时长或件数；签退后雇主24小时内未确认，"
        "按工人填报的数量自动确认（最多为托管的数量，更多须雇主确认）。",
    ]


def test_the_rules_text_follows_the_settings(settings):
    settings.JOBS_RULES = {
        **DEFAULTS,
        "FREE_CANCEL_MINUTES": 90,  # shown in minutes, not as 1 hour 30
        "FREE_CANCEL_BEFORE_START_HOURS": 48,
        "EMPLOYER_LATE_CANCEL_HOURS": 6,
        "EMPLOYER_COMPENSATION_RATE": "0.35",
        "EMPLOYER_COMPENSATION_MIN_FEN": 5000,
        "NO_SHOW_GRACE_MINUTES": 15,
        "AUTO_APPROVE_HOURS": 72,
    }
    text = rules().as_text()
    assert text[0].startswith("接单后90分钟内，或离开工还有48小时以上，")
    assert text[1] == "雇主在开工前6小时内取消，需补偿工人预计报酬的35%（至少50元）。"
    assert text[2].startswith("开工15分钟后仍未签到，")
    assert "签退后雇主72小时内未确认，" in text[3]


def test_a_fractional_rate_is_shown_as_it_is(settings):
    settings.JOBS_RULES = {
        **DEFAULTS,
        "EMPLOYER_COMPENSATION_RATE": "0.125",
        "EMPLOYER_COMPENSATION_MIN_FEN": 1550,
    }
    assert rules().as_text()[1] == "雇主在开工前12小时内取消，需补偿工人预计报酬的12.5%（至少15元）。"
