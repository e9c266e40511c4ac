"""Exact top-N posts for one seeker without scoring the city: branch and bound over (trade, area) cells.

Every cell keeps what bounds its best possible score for any seeker — the box its posts lie in (nearest
distance), its best pay per unit and as a day's wage, the (weekday/weekend, morning/afternoon/evening)
slots its posts start in, its text (for skills), its best fair-share value. A seeker's bound for a cell is
the score a post with all the cell's best values at the cell's nearest point would get; cells are visited
best bound first, and the search stops when no unvisited cell (or trade) can beat the N-th score found.
So the result is exactly what ranking against every open post gives (``batch.brute_force_top``), at the cost
of the few cells near the top.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from . import scoring
from .scoring import DAYS, KM_PER_DEGREE, PERIODS, PostFacts, WorkerFacts

EPS = 0.011  # scores are rounded to 0.01
SLOT_BIT = {(d, p): i for i, (d, p) in enumerate((d, p) for d in DAYS for p in PERIODS)}


@dataclass(slots=True)
class Cell:
    trade_id: int
    posts: list[PostFacts] = field(default_factory=list)
    lat_min: float = 90.0
    lat_max: float = -90.0
    lng_min: float = 180.0
    lng_max: float = -180.0
    no_place: bool = False  # some post has no coordinates
    unit_max: dict[str, int] = field(default_factory=dict)
    day_max: float | None = None
    slots: set[tuple[str, str]] = field(default_factory=set)
    fair_max: float = 0.0
    text: str = ""
    slot_mask: int = 0
    skill_hits: dict[str, bool] = field(default_factory=dict)
    # The cell's posts in runs of CHUNK (best pay first), each with bounds of its own: a cell worth opening
    # is opened a run at a time, and the runs that cannot reach the bar are never scored.
    chunks: list[Cell] = field(default_factory=list)

    def add(self, p: PostFacts) -> None:
        self.posts.append(p)
        if p.lat is None:
            self.no_place = True
        else:
            self.lat_min, self.lat_max = min(self.lat_min, p.lat), max(self.lat_max, p.lat)
            self.lng_min, self.lng_max = min(self.lng_min, p.lng), max(self.lng_max, p.lng)
        self.unit_max[p.pay_unit] = max(self.unit_max.get(p.pay_unit, 0), p.pay_fen)
        if p.day_pay is not None:
            self.day_max = p.day_pay if self.day_max is None else max(self.day_max, p.day_pay)
        self.slots.add((p.day_kind, p.period))
        self.slot_mask |= 1 << SLOT_BIT[(p.day_kind, p.period)]
        self.fair_max = max(self.fair_max, p.fair_share)


@dataclass(slots=True)
class TradeCells:
    trade_id: int
    category: str
    cert_type_id: int | None
    cells: list[Cell]
    unit_max: dict[str, int]
    day_max: float | None
    slots: set[tuple[str, str]]
    fair_max: float
    slot_mask: int = 0
    # Cells by their southern edge, for the seeker's latitude window; cells with a post without a place
    # (no box: their bound ignores distance) apart.
    by_lat: list[Cell] = field(default_factory=list)
    lat_mins: list[float] = field(default_factory=list)
    unplaced: list[Cell] = field(default_factory=list)

    def near(self, lat: float | None, reach_deg: float) -> list[Cell]:
        """The cells whose box is within ``reach_deg`` degrees of latitude of ``lat`` (all, without one)."""
        if lat is None:
            return self.cells
        hi = bisect.bisect_right(self.lat_mins, lat + reach_deg)
        low = lat - reach_deg
        return [c for c in self.by_lat[:hi] if c.lat_max >= low] + self.unplaced


CHUNK = 8


def _chunks(cell: Cell) -> list[Cell]:
    if len(cell.posts) <= CHUNK:
        return [cell]
    out = []
    for start in range(0, len(cell.posts), CHUNK):
        chunk = Cell(trade_id=cell.trade_id)
        for p in cell.posts[start : start + CHUNK]:
            chunk.add(p)
        chunk.text = "\n".join(p.text for p in chunk.posts)
        out.append(chunk)
    return out


def build_cells(posts: list[PostFacts]) -> list[TradeCells]:
    by_key: dict[tuple[int, int], Cell] = {}
    for p in posts:
        cell = by_key.get((p.trade_id, p.area_id))
        if cell is None:
            cell = by_key[(p.trade_id, p.area_id)] = Cell(trade_id=p.trade_id)
        cell.add(p)
    trades: dict[int, TradeCells] = {}
    for cell in by_key.values():
        cell.text = "\n".join(p.text for p in cell.posts)
        cell.posts.sort(key=lambda p: (-p.pay_fen, p.id))
        cell.chunks = _chunks(cell)
        first = cell.posts[0]
        t = trades.get(cell.trade_id)
        if t is None:
            t = trades[cell.trade_id] = TradeCells(
                trade_id=cell.trade_id, category=first.category, cert_type_id=first.cert_type_id, cells=[],
                unit_max={}, day_max=None, slots=set(), fair_max=0.0,
            )  # fmt: skip
        t.cells.append(cell)
        for unit, pay in cell.unit_max.items():
            t.unit_max[unit] = max(t.unit_max.get(unit, 0), pay)
        if cell.day_max is not None:
            t.day_max = cell.day_max if t.day_max is None else max(t.day_max, cell.day_max)
        t.slots |= cell.slots
        t.slot_mask |= cell.slot_mask
        t.fair_max = max(t.fair_max, cell.fair_max)
    for t in trades.values():
        placed = sorted((c for c in t.cells if not c.no_place), key=lambda c: c.lat_min)
        t.by_lat, t.lat_mins = placed, [c.lat_min for c in placed]
        t.unplaced = [c for c in t.cells if c.no_place]
    return list(trades.values())


def _pay_value(ratio: float) -> float:
    return min(1.0, max(0.0, 0.5 + (ratio - 1.0) * 1.25))


class Searcher:
    """Per-seeker constants, and bounds for cells and trades."""

    def __init__(self, worker: WorkerFacts, w: dict[str, float]):
        self.worker, self.w = worker, w
        avail = worker.availability
        days, periods = avail.intersection(DAYS), avail.intersection(PERIODS)
        any_time = not avail or "any" in avail
        self.slot_value = {
            (d, p): 1.0
            if any_time
            else (0.1, 0.5, 1.0)[int(not days or d in days) + int(not periods or p in periods)]
            for d in DAYS
            for p in PERIODS
        }
        rating = 0.6 if worker.stars is None else (worker.stars - 1) / 4
        self.worker_part = (
            w["reliability"] * worker.reliability / 100
            + w["rating"] * rating
            + w["help"] * worker.help_tier / 3
        )
        self.expected_day = scoring._expected_day(worker)
        self.mask_value: dict[int, float] = {}
        self.skills_pay_max = w["skills"] * (1.0 if worker.skills else 0.0) + w["pay"] * (
            1.0 if worker.expected_pay_fen else 0.5
        )
        # cos of the latitude nearest the pole in reach: the smallest scale, so distances are never overstated
        self.reach_deg = worker.max_distance_km / KM_PER_DEGREE
        if worker.lat is not None:
            reach = self.reach_deg
            self.k_low = scoring.math.cos(scoring.math.radians(min(89.0, abs(worker.lat) + reach)))

    def avail_bound(self, mask: int) -> float:
        value = self.mask_value.get(mask)
        if value is None:
            value = self.mask_value[mask] = max(
                v for slot, v in self.slot_value.items() if mask >> SLOT_BIT[slot] & 1
            )
        return value

    def _pay_bound(self, unit_max: dict[str, int], day_max: float | None) -> float:
        worker = self.worker
        if not worker.expected_pay_fen:
            return 0.5
        best = 0.0
        for unit, pay in unit_max.items():
            if unit == worker.expected_pay_unit:
                best = max(best, _pay_value(pay / worker.expected_pay_fen))
            elif self.expected_day is None:
                best = max(best, 0.5)
            elif day_max is not None:
                best = max(best, _pay_value(day_max / self.expected_day))
            else:
                best = max(best, 0.5)
        return best

    def _fixed(self, t: TradeCells) -> float | None:
        worker, w = self.worker, self.w
        if t.cert_type_id is not None and t.cert_type_id not in worker.certificates:
            return None
        trade = 1.0 if t.trade_id in worker.wanted else 0.4 if t.category in worker.wanted_categories else 0.0
        return (
            w["trade"] * trade
            + w["certificate"] * (1.0 if t.cert_type_id is not None else 0.5)
            + self.worker_part
        )

    def trade_bound(self, t: TradeCells) -> float | None:
        fixed = self._fixed(t)
        if fixed is None:
            return None
        w = self.w
        return (
            fixed
            + w["skills"] * (1.0 if self.worker.skills else 0.0)
            + w["distance"]
            + w["pay"] * self._pay_bound(t.unit_max, t.day_max)
            + w["availability"] * self.avail_bound(t.slot_mask)
            + w["fair_share"] * t.fair_max
        )

    def cell_bound(self, cell: Cell, fixed: float, bar: float = -1.0) -> float | None:
        """The best score any post of ``cell`` could get; None when the travel distance shuts the whole cell,
        or when even full marks for skills and pay could not reach ``bar`` (then it need not be computed)."""
        worker, w = self.worker, self.w
        lat = worker.lat
        if lat is not None and not cell.no_place:
            dlat = (
                cell.lat_min - lat
                if lat < cell.lat_min
                else lat - cell.lat_max
                if lat > cell.lat_max
                else 0.0
            )
            lng = worker.lng
            dlng = (
                cell.lng_min - lng
                if lng < cell.lng_min
                else lng - cell.lng_max
                if lng > cell.lng_max
                else 0.0
            )
            dist = KM_PER_DEGREE * (dlat * dlat + (dlng * self.k_low) ** 2) ** 0.5
            if dist > worker.max_distance_km:
                return None
            near = 1.0 - dist / worker.max_distance_km
        else:
            near = 1.0
        base = (
            fixed
            + w["distance"] * near
            + w["availability"] * self.avail_bound(cell.slot_mask)
            + w["fair_share"] * cell.fair_max
        )
        if base + self.skills_pay_max < bar:
            return None
        skill = 0.0
        for s in worker.skills:
            hit = cell.skill_hits.get(s)
            if hit is None:
                hit = cell.skill_hits[s] = s in cell.text
            if hit:
                skill = 1.0
                break
        unit_max = cell.unit_max
        if len(unit_max) == 1 and worker.expected_pay_fen and worker.expected_pay_unit in unit_max:
            pay = _pay_value(unit_max[worker.expected_pay_unit] / worker.expected_pay_fen)
        else:
            pay = self._pay_bound(unit_max, cell.day_max)
        return base + w["skills"] * skill + w["pay"] * pay


def top_posts(
    worker: WorkerFacts,
    trades: list[TradeCells],
    w: dict[str, float],
    n: int,
    allowed,
    seed: list[tuple[float, PostFacts]] = (),
    max_cells: int | None = None,
) -> tuple[list[tuple[float, PostFacts]], bool]:
    """The ``n`` best posts for ``worker`` (as ``scoring.rank_posts`` over every post would give them);
    ``allowed(worker, posts)`` drops what the claim gates refuse. ``seed``: scored posts found by a cheap
    retrieval first, so the bar to beat is high from the start and few cells need opening. ``max_cells``
    caps the cells opened; the flag returned says whether the search finished (the result is then exact)."""
    import heapq

    search = Searcher(worker, w)
    ranked_trades = []
    for t in trades:
        bound = search.trade_bound(t)
        if bound is not None:
            ranked_trades.append((bound, t))
    ranked_trades.sort(key=lambda x: -x[0])
    best: list[tuple[float, int, PostFacts]] = []  # min-heap of (score, -id, post)
    seen: set[int] = set()
    for score, p in seed:
        seen.add(p.id)
        item = (score, -p.id, p)
        if len(best) < n:
            heapq.heappush(best, item)
        elif item[:2] > best[0][:2]:
            heapq.heapreplace(best, item)

    def kth() -> float:
        return best[0][0] if len(best) >= n else -1.0

    opened = 0
    exact = True
    for bound, t in ranked_trades:
        if bound < kth() - EPS or not exact:
            break
        fixed = search._fixed(t)
        cells = []
        bar = kth() - EPS
        for cell in t.near(worker.lat, search.reach_deg):
            cb = search.cell_bound(cell, fixed, bar)
            if cb is not None and cb >= bar:
                cells.append((cb, cell))
        cells.sort(key=lambda x: -x[0])
        for cb, cell in cells:
            if cb < kth() - EPS:
                break
            for chunk in cell.chunks:
                if chunk is not cell:
                    bar = kth() - EPS
                    bound = search.cell_bound(chunk, fixed, bar)
                    if bound is None or bound < bar:
                        continue
                if max_cells is not None and opened >= max_cells:
                    exact = False
                    break
                opened += 1
                for score, p in scoring.rank_posts(worker, allowed(worker, chunk.posts), w, n):
                    if p.id in seen:
                        continue
                    item = (score, -p.id, p)
                    if len(best) < n:
                        heapq.heappush(best, item)
                    elif item[:2] > best[0][:2]:
                        heapq.heapreplace(best, item)
            if not exact:
                break
    return [(s, p) for s, _, p in sorted(best, key=lambda x: (-x[0], -x[1]))], exact
