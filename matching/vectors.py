"""Exact top-N posts for one seeker, a trade at a time in arrays (the nightly batch's search).

The open posts of each trade are laid out once as columns (numpy arrays: position, pay, day and time slot,
fair share, employer, start …), sorted by latitude. For one seeker the trades are taken best bound first
(the arithmetic of ``bounded.Searcher.trade_bound``, for every trade at once: the score a post with all the
trade's best values could get); each
trade's posts within the seeker's latitude window are scored together with the arithmetic of
:func:`matching.scoring.rank_posts`, gates included (certificate, travel distance, available from, and the
claim gates of ``CityIndex.allowed``). The search stops at the first trade whose bound is below the bar.

Exactness does not rest on the array arithmetic agreeing with Python's to the last bit (``math.hypot`` and
``numpy.hypot`` may differ by an ulp, and the scores are rounded to 0.01): every post whose array score is
within ``MARGIN`` of the n-th best array score is kept, and that short list is ranked again with
``scoring.rank_posts`` itself. If the array scores are off by at most δ (≪ 1e-9 here), a post of the true
top n has an array score ≥ A_n − 0.01 − 2δ, where A_n is the n-th best array score — so nothing of the true
top n is ever left out, and the final order and tie-breaks are rank_posts' own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import scoring
from .scoring import DAYS, KM_PER_DEGREE, PERIODS, PostFacts, WorkerFacts

MARGIN = 0.011 + 1e-6  # the rounding of scores to 0.01, plus twice any difference of the array arithmetic
UNITS: dict[str, int] = {}


def _unit(code: str) -> int:
    return UNITS.setdefault(code, len(UNITS))


@dataclass
class TradeVectors:
    """One trade's open posts as columns, sorted by latitude; posts without a position last."""

    trade_id: int
    category: str
    cert_type_id: int | None
    posts: list[PostFacts]
    placed: int  # posts[:placed] have coordinates (sorted by lat), posts[placed:] have none
    lat: np.ndarray
    lng: np.ndarray
    area: np.ndarray
    town: np.ndarray
    district: np.ndarray
    pay: np.ndarray
    unit: np.ndarray
    day_pay: np.ndarray  # nan where a day's wage means nothing
    slot: np.ndarray  # DAYS index × 3 + PERIODS index
    fair: np.ndarray
    start_day: np.ndarray  # ordinal of the local start date
    starts: np.ndarray  # POSIX seconds, for the busy gate
    ends: np.ndarray
    employer: np.ndarray
    ids: np.ndarray
    skill_hits: dict[str, np.ndarray] = field(default_factory=dict)
    cos_half: np.ndarray = field(init=False)  # cos(radians(lat) / 2), for the mid-latitude's cosine
    sin_half: np.ndarray = field(init=False)
    only_unit: int = field(init=False)  # the pay unit of every post, or -2 when they differ
    _base: tuple | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        half = np.radians(self.lat) / 2
        self.cos_half, self.sin_half = np.cos(half), np.sin(half)
        units = np.unique(self.unit)
        self.only_unit = int(units[0]) if len(units) == 1 else -2

    def base(self, w: dict[str, float]) -> np.ndarray:
        """What of each post's score depends on the post alone: certificate, fair share (per weights)."""
        if self._base is None or self._base[0] is not w:
            cert = w["certificate"] * (1.0 if self.cert_type_id is not None else 0.5)
            self._base = (w, cert + w["fair_share"] * self.fair)
        return self._base[1]

    @classmethod
    def build(cls, posts: list[PostFacts]) -> TradeVectors:
        placed = sorted((p for p in posts if p.lat is not None), key=lambda p: (p.lat, p.id))
        unplaced = sorted((p for p in posts if p.lat is None), key=lambda p: p.id)
        ordered = placed + unplaced
        first = ordered[0]

        def col(values, dtype):
            return np.fromiter(values, dtype=dtype, count=len(ordered))

        none = -1
        return cls(
            trade_id=first.trade_id,
            category=first.category,
            cert_type_id=first.cert_type_id,
            posts=ordered,
            placed=len(placed),
            lat=col((p.lat if p.lat is not None else np.nan for p in ordered), np.float64),
            lng=col((p.lng if p.lng is not None else np.nan for p in ordered), np.float64),
            area=col((p.area_id if p.area_id is not None else none for p in ordered), np.int64),
            town=col((p.town_id if p.town_id is not None else none for p in ordered), np.int64),
            district=col((p.district_id if p.district_id is not None else none for p in ordered), np.int64),
            pay=col((p.pay_fen for p in ordered), np.float64),
            unit=col((_unit(p.pay_unit) for p in ordered), np.int16),
            day_pay=col((p.day_pay if p.day_pay is not None else np.nan for p in ordered), np.float64),
            slot=col((DAYS.index(p.day_kind) * 3 + PERIODS.index(p.period) for p in ordered), np.int8),
            fair=col((p.fair_share for p in ordered), np.float64),
            start_day=col((p.starts_at.date().toordinal() for p in ordered), np.int64),
            starts=col((p.starts_at.timestamp() for p in ordered), np.float64),
            ends=col((p.ends_at.timestamp() for p in ordered), np.float64),
            employer=col((p.employer_id for p in ordered), np.int64),
            ids=col((p.id for p in ordered), np.int64),
        )

    def skill_hit(self, skill: str) -> np.ndarray:
        """Whether ``skill`` appears in each post's text (``skill in post.text``), worked out once per skill."""
        hit = self.skill_hits.get(skill)
        if hit is None:
            hit = self.skill_hits[skill] = np.fromiter(
                (skill in p.text for p in self.posts), dtype=bool, count=len(self.posts)
            )
        return hit


@dataclass
class CityVectors:
    """Every trade's columns, and what bounds each trade's best score, as arrays over the trades (the
    arithmetic of ``bounded.Searcher.trade_bound``, for all trades at once)."""

    trades: list[TradeVectors]
    trade_ids: np.ndarray
    category: np.ndarray  # the category's name per trade (object array)
    cert: np.ndarray  # certificate type a trade needs, -1 for none
    unit_max: np.ndarray  # trades × units: best pay per unit, nan where the trade has no post in that unit
    day_max: np.ndarray  # best pay as a day's wage, nan where none means anything
    slots: np.ndarray  # trades × 6: whether some post starts in that (day kind, period)
    fair_max: np.ndarray

    def __post_init__(self) -> None:
        self.position = {t: i for i, t in enumerate(self.trade_ids.tolist())}
        self.of_category: dict[str, np.ndarray] = {}
        for i, category in enumerate(self.category.tolist()):
            self.of_category.setdefault(category, []).append(i)  # type: ignore[arg-type]
        self.of_category = {c: np.array(v) for c, v in self.of_category.items()}
        self.restricted = [(i, int(c)) for i, c in enumerate(self.cert.tolist()) if c >= 0]
        self.present = ~np.isnan(self.unit_max)
        self.units = self.present.sum(axis=1)
        self.slot_values = self.slots.astype(np.float64)
        self._pay_bounds: dict[tuple, np.ndarray] = {}
        self._avail_bounds: dict[frozenset, np.ndarray] = {}

    def bounds(self, seeker: Seeker) -> np.ndarray:
        """Each trade's bound for the seeker (the best score any of its posts could get); -inf where the
        certificate gate shuts the whole trade. What depends on the seeker's pay and availability only is
        worked out once per distinct expectation (seekers share a few hundred)."""
        wf, w = seeker.wf, seeker.w
        if w is not getattr(self, "_weights", None):  # the caches below hold weighted values
            self._weights, self._pay_bounds, self._avail_bounds, self._fixed_part = w, {}, {}, None
        trade = np.zeros(len(self.trades))
        for category in wf.wanted_categories:
            where = self.of_category.get(category)
            if where is not None:
                trade[where] = 0.4
        for trade_id in wf.wanted:
            i = self.position.get(trade_id)
            if i is not None:
                trade[i] = 1.0
        key = (wf.expected_pay_fen, seeker.unit, seeker.expected_day)
        pay = self._pay_bounds.get(key)
        if pay is None:
            pay = self._pay_bounds[key] = self._pay_bound(seeker)
        avail = self._avail_bounds.get(wf.availability)
        if avail is None:
            avail = self._avail_bounds[wf.availability] = self._avail_bound(seeker)
        constant = seeker.worker_part + w["skills"] * (1.0 if wf.skills else 0.0) + w["distance"]
        bound = w["trade"] * trade + (self.fixed_part(w) + constant) + pay + avail
        for i, cert in self.restricted:
            if cert not in wf.certificates:
                bound[i] = -np.inf
        return bound

    def fixed_part(self, w: dict[str, float]) -> np.ndarray:
        """What of the bound depends on the trade alone: certificate and best fair share."""
        part = getattr(self, "_fixed_part", None)
        if part is None:
            part = self._fixed_part = w["certificate"] * np.where(self.cert >= 0, 1.0, 0.5) + (
                w["fair_share"] * self.fair_max
            )
        return part

    def _pay_bound(self, seeker: Seeker) -> np.ndarray:
        """w_pay × the best pay value of each trade for this expectation (``Searcher._pay_bound``)."""
        wf, w = seeker.wf, seeker.w
        if not wf.expected_pay_fen:
            return np.full(len(self.trades), w["pay"] * 0.5)
        u = seeker.unit if seeker.unit < self.present.shape[1] else -1  # a unit no open post is paid in
        own = self.present[:, u] if u >= 0 else np.zeros(len(self.trades), dtype=bool)
        others = (self.units - own) > 0  # some post in another unit
        if seeker.expected_day is None:
            other = np.full(len(self.trades), 0.5)
        else:
            other = np.where(np.isnan(self.day_max), 0.5, _pay_value(self.day_max / seeker.expected_day))
        best = np.where(others, other, 0.0)
        if u >= 0:
            with np.errstate(invalid="ignore"):
                mine = _pay_value(self.unit_max[:, u] / wf.expected_pay_fen)
            best = np.where(own, np.maximum(best, mine), best)
        return w["pay"] * best

    def _avail_bound(self, seeker: Seeker) -> np.ndarray:
        """w_availability × the best availability value of any start slot of each trade."""
        values = np.full(6, seeker.w["availability"]) if seeker.avail is None else seeker.avail
        return np.where(self.slots, values, -np.inf).max(axis=1)


def _pay_value(ratio: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, np.maximum(0.0, 0.5 + (ratio - 1.0) * 1.25))


def build(posts: list[PostFacts]) -> CityVectors:
    """The open posts as columns, trade by trade."""
    by_trade: dict[int, list[PostFacts]] = {}
    for p in posts:
        by_trade.setdefault(p.trade_id, []).append(p)
    trades = [TradeVectors.build(group) for _, group in sorted(by_trade.items())]
    unit_max = np.full((len(trades), max(1, len(UNITS))), np.nan)
    day_max = np.full(len(trades), np.nan)
    slots = np.zeros((len(trades), 6), dtype=bool)
    for i, tv in enumerate(trades):
        for unit in np.unique(tv.unit):
            unit_max[i, unit] = tv.pay[tv.unit == unit].max()
        if not np.isnan(tv.day_pay).all():
            day_max[i] = np.nanmax(tv.day_pay)
        slots[i, np.unique(tv.slot)] = True
    return CityVectors(
        trades=trades,
        trade_ids=np.array([tv.trade_id for tv in trades], dtype=np.int64),
        category=np.array([tv.category for tv in trades], dtype=object),
        cert=np.array([-1 if tv.cert_type_id is None else tv.cert_type_id for tv in trades], dtype=np.int64),
        unit_max=unit_max,
        day_max=day_max,
        slots=slots,
        fair_max=np.array([tv.fair.max() for tv in trades]),
    )


class Gates:
    """The claim gates of one seeker (``CityIndex.allowed``) as masks over a trade's columns."""

    def __init__(self, claimed, employers, busy):
        self.claimed = np.fromiter(claimed, dtype=np.int64) if claimed else None
        self.employers = np.fromiter(employers, dtype=np.int64) if employers else None
        self.busy = [(s.timestamp(), e.timestamp()) for s, e in busy] if busy else None

    def mask(self, tv: TradeVectors, sl) -> np.ndarray | None:
        """Whether each post of ``tv`` at ``sl`` (a slice or positions) passes the gates."""
        keep = None
        if self.claimed is not None:
            keep = ~np.isin(tv.ids[sl], self.claimed)
        if self.employers is not None:
            out = ~np.isin(tv.employer[sl], self.employers)
            keep = out if keep is None else keep & out
        if self.busy is not None:
            starts, ends = tv.starts[sl], tv.ends[sl]
            for s, e in self.busy:  # any(s < p.ends_at and e > p.starts_at) shuts the post
                out = ~((ends > s) & (starts < e))
                keep = out if keep is None else keep & out
        return keep


class Seeker:
    """Per-seeker constants of the array scoring (the same as ``rank_posts`` works out once)."""

    def __init__(self, wf: WorkerFacts, w: dict[str, float]):
        self.wf, self.w = wf, w
        rating = 0.6 if wf.stars is None else (wf.stars - 1) / 4
        self.worker_part = (
            w["reliability"] * wf.reliability / 100 + w["rating"] * rating + w["help"] * wf.help_tier / 3
        )
        avail = wf.availability
        if not avail or "any" in avail:
            self.avail = None
        else:
            days, periods = avail.intersection(DAYS), avail.intersection(PERIODS)
            self.avail = np.array(
                [
                    (0.1, 0.5, 1.0)[int(not days or d in days) + int(not periods or p in periods)]
                    for d in DAYS
                    for p in PERIODS
                ]
            )
        self.expected_day = scoring._expected_day(wf)
        self.unit = UNITS.get(wf.expected_pay_unit, -1)
        self.reach = wf.max_distance_km / KM_PER_DEGREE
        self.from_day = wf.available_from.toordinal() if wf.available_from is not None else None
        if wf.lat is not None:
            half = math.radians(wf.lat) / 2
            self.cos_half, self.sin_half = math.cos(half), math.sin(half)
            # the smallest cosine of a latitude in reach: the widest longitude box that can hold a post in reach
            k_low = math.cos(math.radians(min(89.0, abs(wf.lat) + self.reach)))
            self.reach_lng = self.reach / k_low * (1 + 1e-9)
        self.w_dist = w["distance"]
        if self.avail is not None:
            self.avail = w["availability"] * self.avail  # w_availability × the value of each start slot

    def score(self, tv: TradeVectors, gates: Gates | None) -> tuple[np.ndarray, np.ndarray]:
        """Array scores of the trade's posts that pass every gate, and their positions in ``tv.posts``."""
        wf, w = self.wf, self.w
        scores, where = [], []
        if wf.lat is not None:
            lo = int(np.searchsorted(tv.lat[: tv.placed], wf.lat - self.reach, side="left"))
            hi = int(np.searchsorted(tv.lat[: tv.placed], wf.lat + self.reach, side="right"))
            parts = [(lo, hi, True), (tv.placed, len(tv.posts), False)]
        else:
            parts = [(0, len(tv.posts), False)]
        trade = 1.0 if tv.trade_id in wf.wanted else 0.4 if tv.category in wf.wanted_categories else 0.0
        fixed = w["trade"] * trade + self.worker_part + (w["availability"] if self.avail is None else 0.0)
        for lo, hi, placed in parts:
            if hi <= lo:
                continue
            if placed:
                # the latitude band, then the longitude box: |Δlng| × cos ≤ reach, and cos ≥ k_low
                box = np.flatnonzero(np.abs(tv.lng[lo:hi] - wf.lng) <= self.reach_lng) + lo
                # cos((lat₁ + lat₂) / 2) = cos a · cos b − sin a · sin b, the halves' cosines and sines kept
                k = self.cos_half * tv.cos_half[box] - self.sin_half * tv.sin_half[box]
                dist = KM_PER_DEGREE * np.hypot(tv.lat[box] - wf.lat, (tv.lng[box] - wf.lng) * k)
                keep = dist <= wf.max_distance_km
                if self.from_day is not None:
                    keep &= tv.start_day[box] >= self.from_day
                if gates is not None:
                    ok = gates.mask(tv, box)
                    if ok is not None:
                        keep &= ok
                positions = box[keep]
                if not len(positions):
                    continue
                s = fixed + self.w_dist * (1.0 - dist[keep] / wf.max_distance_km)
            else:
                positions = np.arange(lo, hi)
                keep = None
                if self.from_day is not None:
                    keep = tv.start_day[positions] >= self.from_day
                if gates is not None:
                    ok = gates.mask(tv, positions)
                    if ok is not None:
                        keep = ok if keep is None else keep & ok
                if keep is not None:
                    positions = positions[keep]
                if not len(positions):
                    continue
                s = fixed + self.w_dist * self._near_without_place(tv, positions)
            s += tv.base(w)[positions]
            if wf.skills:
                hit = tv.skill_hit(wf.skills[0])
                for skill in wf.skills[1:]:
                    hit = hit | tv.skill_hit(skill)
                s += w["skills"] * hit[positions]
            s += self._pay(tv, positions)
            if self.avail is not None:
                s += self.avail[tv.slot[positions]]
            scores.append(s)
            where.append(positions)
        if not scores:
            return np.empty(0), np.empty(0, dtype=np.int64)
        if len(scores) == 1:
            return scores[0], where[0]
        return np.concatenate(scores), np.concatenate(where)

    def _near_without_place(self, tv: TradeVectors, positions: np.ndarray) -> np.ndarray:
        """``near`` where the post or the seeker has no position: same area 1, town 0.6, district 0.3."""
        wf = self.wf
        near = np.zeros(len(positions))
        decided = np.zeros(len(positions), dtype=bool)
        for key, value, column in (
            (wf.area_id, 1.0, tv.area),
            (wf.town_id, 0.6, tv.town),
            (wf.district_id, 0.3, tv.district),
        ):
            if key is None:
                continue
            same = (column[positions] == key) & ~decided
            near[same] = value
            decided |= same
        return near

    def _pay(self, tv: TradeVectors, positions: np.ndarray):
        """w_pay × the pay value of each post (``rank_posts``' ratio against the seeker's expectation)."""
        wf, w_pay = self.wf, self.w["pay"]
        if not wf.expected_pay_fen:
            return w_pay * 0.5
        if tv.only_unit == self.unit:
            return w_pay * _pay_value(tv.pay[positions] / wf.expected_pay_fen)
        same_unit = tv.unit[positions] == self.unit
        ratio = np.where(same_unit, tv.pay[positions] / wf.expected_pay_fen, np.nan)
        if self.expected_day is not None:
            ratio = np.where(same_unit, ratio, tv.day_pay[positions] / self.expected_day)
        return w_pay * np.where(np.isnan(ratio), 0.5, _pay_value(ratio))


def top_posts(
    wf: WorkerFacts,
    city: CityVectors,
    w: dict[str, float],
    n: int,
    gates: Gates | None = None,
) -> list[tuple[float, PostFacts]]:
    """The ``n`` best posts for ``wf`` — exactly what ``scoring.rank_posts`` over every open post the gates
    allow gives (a test holds them equal)."""
    seeker = Seeker(wf, w)
    bounds = city.bounds(seeker)
    order = np.argsort(-bounds, kind="stable")
    kept_scores = np.empty(0)
    kept: list[
        tuple[np.ndarray, np.ndarray, TradeVectors]
    ] = []  # (scores, positions, trade) still in the running
    bar = -math.inf
    for i in order.tolist():
        bound = bounds[i]
        if bound < bar or bound == -math.inf:
            break
        tv = city.trades[i]
        scores, positions = seeker.score(tv, gates)
        if not len(scores):
            continue
        if bar > -math.inf:
            keep = scores >= bar
            scores, positions = scores[keep], positions[keep]
        kept.append((scores, positions, tv))
        kept_scores = np.concatenate((kept_scores, scores))
        if len(kept_scores) >= n:
            nth = np.partition(kept_scores, len(kept_scores) - n)[len(kept_scores) - n]
            if nth - MARGIN > bar:
                bar = nth - MARGIN
                kept_scores = kept_scores[kept_scores >= bar]
    candidates = [tv.posts[i] for scores, positions, tv in kept for i in positions[scores >= bar].tolist()]
    return scoring.rank_posts(wf, candidates, w, n)


def gates_for(index, wf: WorkerFacts) -> Gates | None:
    """``CityIndex.allowed``'s gates for ``wf`` as array masks, or None when none applies (most seekers)."""
    claimed = index.claimed.get(wf.id)
    employers = (index.blocked.get(wf.id) or set()) | (index.member_of.get(wf.id) or set())
    busy = index.busy.get(wf.id)
    if not (claimed or employers or busy):
        return None
    return Gates(claimed, employers, busy)
