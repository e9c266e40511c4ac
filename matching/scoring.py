"""How well a (worker, post) pair fits, and why, in plain Chinese.

Pure functions over two small fact records, so the per-request paths (one post's push list, one seeker's
为你推荐) and the city-wide batch score pairs the same way. The weights live in
``settings.MATCHING_WEIGHTS``; each factor is a value in 0..1, the score is Σ weight × value (0–100).

Some facts are gates rather than factors: a restricted trade without a valid certificate, a post farther
than the worker will travel, a start before the worker is available. Such pairs get no score at all.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.conf import settings

KM_PER_DEGREE = 111.195
HOURS_PER_DAY = 8

DEFAULT_WEIGHTS = {
    "trade": 27.0,  # the post's trade is one the worker wants (想干)
    "skills": 6.0,  # a skill the worker listed (会干) appears in the post
    "certificate": 4.0,  # holds the certificate a restricted trade needs
    "distance": 20.0,  # near, relative to how far the worker will travel
    "pay": 15.0,  # pay against the worker's expectation
    "availability": 10.0,  # the post's day and time are when the worker said they are free
    "reliability": 7.0,  # 靠谱分
    "rating": 3.0,  # stars from employers
    "fair_share": 5.0,  # few applicants per slot: spreads workers over posts
    "help": 3.0,  # 困难零工 tier (staff-only; never named in a reason)
}

UNIT_WORD = {"day": "日薪", "hour": "时薪", "class_hour": "课时费", "piece": "计件价", "job": "报酬"}
PERIODS = ("mornings", "afternoons", "evenings")
DAYS = ("weekdays", "weekends")
AVAILABILITY_WORD = {
    "weekdays": "工作日",
    "weekends": "周末",
    "mornings": "上午",
    "afternoons": "下午",
    "evenings": "晚上",
}


def weights() -> dict[str, float]:
    configured = getattr(settings, "MATCHING_WEIGHTS", None) or {}
    return {**DEFAULT_WEIGHTS, **configured}


@dataclass(slots=True)
class PostFacts:
    id: int
    trade_id: int
    trade_name: str
    category: str
    cert_type_id: int | None
    employer_id: int
    area_id: int
    area_name: str
    town_id: int | None
    district_id: int
    lat: float | None
    lng: float | None
    pay_fen: int
    pay_unit: str
    quantity: float
    starts_at: dt.datetime  # local time
    ends_at: dt.datetime
    slots: int
    slots_left: int
    applicants: int  # pending + confirmed claims
    text: str  # title, trade and description, for skill matching
    # derived once per post
    day_kind: str = field(init=False)
    period: str = field(init=False)
    day_pay: float | None = field(init=False)
    fair_share: float = field(init=False)

    def __post_init__(self) -> None:
        self.fair_share = 1.0 / (1.0 + self.applicants / max(1, self.slots))
        self.day_kind = "weekends" if self.starts_at.weekday() >= 5 else "weekdays"
        hour = self.starts_at.hour
        self.period = "mornings" if hour < 12 else "afternoons" if hour < 18 else "evenings"
        self.day_pay = _day_equivalent(
            self.pay_fen, self.pay_unit, self.quantity, self.starts_at, self.ends_at
        )


@dataclass(slots=True)
class WorkerFacts:
    id: int
    wanted: frozenset[int]
    wanted_names: dict[int, str]
    wanted_categories: frozenset[str]
    skills: tuple[str, ...]
    expected_pay_fen: int | None
    expected_pay_unit: str
    area_id: int | None
    town_id: int | None
    district_id: int | None
    lat: float | None
    lng: float | None
    availability: frozenset[str]
    available_from: dt.date | None
    max_distance_km: int
    reliability: int
    stars: float | None
    help_tier: int
    certificates: frozenset[int]  # valid certificate type ids


@dataclass(slots=True)
class Fit:
    score: float
    parts: dict[str, float]  # factor → value 0..1
    distance_km: float | None


def _day_equivalent(
    pay_fen: int, unit: str, quantity: float, starts: dt.datetime, ends: dt.datetime
) -> float | None:
    """A post's pay as a day's wage, where that comparison means something."""
    if unit in ("hour", "class_hour"):
        return pay_fen * HOURS_PER_DAY
    if unit == "day":
        return float(pay_fen)
    hours = (ends - starts).total_seconds() / 3600
    days = 1 if hours <= 12 else max(1, round(hours / 24))
    return pay_fen * quantity / days


def _expected_day(worker: WorkerFacts) -> float | None:
    if not worker.expected_pay_fen:
        return None
    if worker.expected_pay_unit in ("hour", "class_hour"):
        return worker.expected_pay_fen * HOURS_PER_DAY
    if worker.expected_pay_unit == "day":
        return float(worker.expected_pay_fen)
    return None


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Equirectangular distance: within 0.1% of the great circle at city scale, and cheap."""
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return KM_PER_DEGREE * math.hypot(lat2 - lat1, (lng2 - lng1) * k)


def _pay_ratio(worker: WorkerFacts, post: PostFacts) -> float | None:
    if not worker.expected_pay_fen:
        return None
    if worker.expected_pay_unit == post.pay_unit:
        return post.pay_fen / worker.expected_pay_fen
    expected = _expected_day(worker)
    if expected is None or post.day_pay is None:
        return None
    return post.day_pay / expected


def evaluate(worker: WorkerFacts, post: PostFacts, w: dict[str, float] | None = None) -> Fit | None:
    """The pair's score, or None when a gate shuts it (certificate, travel distance, not yet available)."""
    w = w or weights()
    if post.cert_type_id is not None and post.cert_type_id not in worker.certificates:
        return None
    if worker.available_from is not None and post.starts_at.date() < worker.available_from:
        return None
    dist = None
    if worker.lat is not None and post.lat is not None:
        dist = distance_km(worker.lat, worker.lng, post.lat, post.lng)
        if dist > worker.max_distance_km:
            return None
        near = 1.0 - dist / worker.max_distance_km
    elif worker.area_id is not None and worker.area_id == post.area_id:
        near = 1.0
    elif worker.town_id is not None and worker.town_id == post.town_id:
        near = 0.6
    elif worker.district_id is not None and worker.district_id == post.district_id:
        near = 0.3
    else:
        near = 0.0

    if post.trade_id in worker.wanted:
        trade = 1.0
    elif post.category in worker.wanted_categories:
        trade = 0.4
    else:
        trade = 0.0
    skills = 1.0 if any(s in post.text for s in worker.skills) else 0.0
    certificate = 1.0 if post.cert_type_id is not None else 0.5

    ratio = _pay_ratio(worker, post)
    pay = 0.5 if ratio is None else min(1.0, max(0.0, 0.5 + (ratio - 1.0) * 1.25))

    avail = worker.availability
    if not avail or "any" in avail:
        availability = 1.0
    else:
        days = avail.intersection(DAYS)
        periods = avail.intersection(PERIODS)
        ok = int(not days or post.day_kind in days) + int(not periods or post.period in periods)
        availability = (0.1, 0.5, 1.0)[ok]

    reliability = worker.reliability / 100
    rating = 0.6 if worker.stars is None else (worker.stars - 1) / 4
    fair_share = post.fair_share
    help_value = worker.help_tier / 3

    parts = {
        "trade": trade,
        "skills": skills,
        "certificate": certificate,
        "distance": near,
        "pay": pay,
        "availability": availability,
        "reliability": reliability,
        "rating": rating,
        "fair_share": fair_share,
        "help": help_value,
    }
    score = sum(w[k] * v for k, v in parts.items())
    return Fit(score=round(score, 2), parts=parts, distance_km=dist)


def _distance_phrase(fit: Fit, worker: WorkerFacts, post: PostFacts, *, for_employer: bool) -> str | None:
    target = "工作地点" if for_employer else "您"
    if fit.distance_km is not None:
        if fit.distance_km < 1:
            return f"离{target}不到1公里"
        return f"离{target}{round(fit.distance_km)}公里"
    if worker.area_id is not None and worker.area_id == post.area_id:
        return f"就在{post.area_name}"
    return None


def reason(
    worker: WorkerFacts,
    post: PostFacts,
    fit: Fit,
    *,
    for_employer: bool = False,
    most: int = 3,
    w: dict[str, float] | None = None,
) -> str:
    """Up to ``most`` short phrases for the factors that weigh most in this pair, e.g.
    "想干小工 · 离您3公里 · 日薪高于期望"."""
    w = w or weights()
    phrases: list[tuple[float, int, str]] = []

    def add(order: int, factor: str, text: str | None) -> None:
        if text:
            phrases.append((w[factor] * fit.parts[factor], order, text))

    p = fit.parts
    if p["trade"] == 1.0:
        add(0, "trade", f"想干{worker.wanted_names.get(post.trade_id, post.trade_name)}")
    elif p["trade"] > 0:
        add(0, "trade", f"同类活：{post.trade_name}")
    if p["skills"]:
        skill = next(s for s in worker.skills if s in post.text)
        add(1, "skills", f"会{skill}" if not skill.startswith("会") else skill)
    if post.cert_type_id is not None:
        add(2, "certificate", "持有效证书")
    if p["distance"] >= 0.3:
        add(3, "distance", _distance_phrase(fit, worker, post, for_employer=for_employer))
    ratio = _pay_ratio(worker, post)
    if ratio is not None and ratio >= 0.95:
        word = UNIT_WORD.get(post.pay_unit, "报酬")
        add(4, "pay", f"{word}高于期望" if ratio >= 1.05 else f"{word}符合期望")
    if p["availability"] == 1.0 and worker.availability and "any" not in worker.availability:
        slot = post.day_kind if post.day_kind in worker.availability else post.period
        add(5, "availability", f"{AVAILABILITY_WORD[slot]}有空")
    if for_employer:
        if worker.stars is not None and worker.stars >= 4:
            add(6, "rating", f"评分{worker.stars:g}星")
        if worker.reliability >= 90:
            add(7, "reliability", f"靠谱分{worker.reliability}")
    elif post.applicants == 0 or post.applicants / max(1, post.slots) < 0.5:
        add(8, "fair_share", "报名人少")
    chosen = sorted(phrases, key=lambda t: (-t[0], t[1]))[:most]
    text = " · ".join(t[2] for t in sorted(chosen, key=lambda t: t[1]))
    return text[:120] or "综合匹配"


def rank_posts(
    worker: WorkerFacts, posts: list[PostFacts], w: dict[str, float], top: int
) -> list[tuple[float, PostFacts]]:
    """The ``top`` best posts for one worker among ``posts``: the same arithmetic as :func:`evaluate`
    (a test holds them equal), unrolled for the city-wide batch, which scores tens of millions of pairs."""
    import heapq

    w_trade, w_skills, w_cert, w_dist = w["trade"], w["skills"], w["certificate"], w["distance"]
    w_pay, w_avail, w_fair = w["pay"], w["availability"], w["fair_share"]
    rating = 0.6 if worker.stars is None else (worker.stars - 1) / 4
    worker_part = (
        w["reliability"] * worker.reliability / 100 + w["rating"] * rating + w["help"] * worker.help_tier / 3
    )
    wanted, categories, skills = worker.wanted, worker.wanted_categories, worker.skills
    certs, available_from = worker.certificates, worker.available_from
    lat, lng, max_km = worker.lat, worker.lng, worker.max_distance_km
    expected, unit, expected_day = worker.expected_pay_fen, worker.expected_pay_unit, _expected_day(worker)
    avail = worker.availability
    any_time = not avail or "any" in avail
    days, periods = avail.intersection(DAYS), avail.intersection(PERIODS)
    cos_cache: dict[float, float] = {}
    scored: list[tuple[float, int, PostFacts]] = []
    for p in posts:
        if p.cert_type_id is not None and p.cert_type_id not in certs:
            continue
        if available_from is not None and p.starts_at.date() < available_from:
            continue
        if lat is not None and p.lat is not None:
            mid = (lat + p.lat) / 2
            k = cos_cache.get(mid)
            if k is None:
                k = cos_cache[mid] = math.cos(math.radians(mid))
            dist = KM_PER_DEGREE * math.hypot(p.lat - lat, (p.lng - lng) * k)
            if dist > max_km:
                continue
            near = 1.0 - dist / max_km
        elif worker.area_id is not None and worker.area_id == p.area_id:
            near = 1.0
        elif worker.town_id is not None and worker.town_id == p.town_id:
            near = 0.6
        elif worker.district_id is not None and worker.district_id == p.district_id:
            near = 0.3
        else:
            near = 0.0
        trade = 1.0 if p.trade_id in wanted else 0.4 if p.category in categories else 0.0
        skill = 0.0
        for s in skills:
            if s in p.text:
                skill = 1.0
                break
        if not expected:
            pay = 0.5
        else:
            if unit == p.pay_unit:
                ratio = p.pay_fen / expected
            elif expected_day is None or p.day_pay is None:
                ratio = None
            else:
                ratio = p.day_pay / expected_day
            pay = 0.5 if ratio is None else min(1.0, max(0.0, 0.5 + (ratio - 1.0) * 1.25))
        if any_time:
            availability = 1.0
        else:
            ok = int(not days or p.day_kind in days) + int(not periods or p.period in periods)
            availability = (0.1, 0.5, 1.0)[ok]
        score = (
            w_trade * trade
            + w_skills * skill
            + w_cert * (1.0 if p.cert_type_id is not None else 0.5)
            + w_dist * near
            + w_pay * pay
            + w_avail * availability
            + worker_part
            + w_fair * p.fair_share
        )
        scored.append((round(score, 2), -p.id, p))
    best = heapq.nlargest(top, scored, key=lambda t: (t[0], t[1]))
    return [(s, p) for s, _, p in best]
