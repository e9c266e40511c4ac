"""Hall reads: what a service point's big screen shows, the kiosk's matched posts, and the staff dashboard's
figures (supply vs demand, 求人倍率, shortage trades, deals, insurance, registrations and the figures other
areas provide through the registry at the bottom)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Area, Employer, ServicePoint, User, WorkerProfile
from accounts.selectors import sees_every_point, service_points_visible_to
from core.errors import DomainError, NotAllowed
from core.templatetags.cn_dates import when_text
from insurance.selectors import insurance_summary
from jobs.models import Claim, Order, Post, Trade
from jobs.selectors import BoardQuery, blocking_orders, board, clashes
from matching.selectors import posts_for_worker
from outreach.selectors import courses_open

from .models import SupplyDemandSnapshot

# ------------------------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """Whose data a dashboard shows. ``point_ids``/``area_ids`` None means the whole market. A point's
    data is its own rows (posts it published, seekers it registered) plus what lies in its territory:
    its area and the areas under it."""

    point_ids: frozenset[int] | None
    area_ids: frozenset[int] | None
    point: ServicePoint | None  # handed to other areas' selectors (they take a point and the points under it)
    label: str

    @property
    def everything(self) -> bool:
        return self.point_ids is None

    def posts(self, prefix: str = "") -> Q:
        if self.everything:
            return Q()
        return Q(**{f"{prefix}area_id__in": self.area_ids}) | Q(
            **{f"{prefix}service_point_id__in": self.point_ids}
        )


def _points_and_below(point_ids: list[int]) -> list[int]:
    ids, frontier = list(point_ids), list(point_ids)
    while frontier:
        frontier = [
            pk
            for pk in ServicePoint.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            if pk not in ids
        ]
        ids += frontier
    return ids


def _areas_and_below(area_ids: set[int]) -> frozenset[int]:
    ids, frontier = set(area_ids), set(area_ids)
    while frontier:
        frontier = set(Area.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return frozenset(ids)


def dashboard_scope(*, user: User, point_id: int | None = None) -> Scope:
    """The scope a staff member asked for: a point they may see (and the points under it), else all they
    may see. Asking for a point outside their reach is refused."""
    visible = service_points_visible_to(user=user)
    if point_id is not None:
        point = visible.filter(pk=point_id).first()
        if point is None:
            raise NotAllowed("您不能查看该网点的数据", field="point")
        ids = _points_and_below([point.pk])
        return _scope_for(ids, point=point, label=point.name)
    if sees_every_point(user=user):
        return Scope(point_ids=None, area_ids=None, point=None, label="全部网点")
    ids = list(visible.values_list("pk", flat=True))
    if not ids:
        raise NotAllowed("您的账户没有所属网点，不能查看数据看板")
    return _scope_for(ids, point=user.service_point, label=user.service_point.name)


def _scope_for(point_ids: list[int], *, point: ServicePoint, label: str) -> Scope:
    areas = set(ServicePoint.objects.filter(pk__in=point_ids).values_list("area_id", flat=True))
    return Scope(point_ids=frozenset(point_ids), area_ids=_areas_and_below(areas), point=point, label=label)


def district_of_areas() -> dict[int, int]:
    """Every area's district (itself for a district)."""
    rows = {pk: (parent, level) for pk, parent, level in Area.objects.values_list("pk", "parent_id", "level")}
    out: dict[int, int] = {}
    for pk in rows:
        here, hops = pk, 0
        while rows[here][1] != Area.Level.DISTRICT and rows[here][0] is not None and hops < 5:
            here, hops = rows[here][0], hops + 1
        out[pk] = here
    return out


# ---------------------------------------------------------------------------------- supply / demand


def supply_demand_cells(*, scope: Scope, day: dt.date | None = None) -> dict[tuple[int, int | None], dict]:
    """Live figures per (trade, area): seekers available that day who want the trade (active seekers, free
    from ``available_from``; their area is their profile's, else their service point's), and open posts
    and their slots left. The snapshot task stores exactly these rows."""
    day = day or timezone.localdate()
    now = timezone.now()
    cells: dict[tuple[int, int | None], dict] = defaultdict(lambda: {"seekers": 0, "openings": 0, "posts": 0})
    wanted = (
        WorkerProfile.wanted_trades.through.objects.filter(
            workerprofile__user__is_active=True, workerprofile__user__role=User.Role.SEEKER
        )
        .filter(Q(workerprofile__available_from__isnull=True) | Q(workerprofile__available_from__lte=day))
        .annotate(home=Coalesce("workerprofile__area_id", "workerprofile__user__service_point__area_id"))
    )
    if not scope.everything:
        wanted = wanted.filter(home__in=scope.area_ids)
    for trade_id, area_id, n in wanted.values_list("trade_id", "home").annotate(n=Count("pk")).order_by():
        cells[(trade_id, area_id)]["seekers"] += n
    posts = Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=now)
    if not scope.everything:
        posts = posts.filter(area_id__in=scope.area_ids)
    for trade_id, area_id, slots, n in (
        posts.values_list("trade_id", "area_id").annotate(s=Sum("slots_left"), n=Count("pk")).order_by()
    ):
        cells[(trade_id, area_id)]["openings"] += slots or 0
        cells[(trade_id, area_id)]["posts"] += n
    return dict(cells)


def _ratio(openings: int, seekers: int) -> float | None:
    """求人倍率: openings ÷ seekers; None when nobody is looking (shown as “—”)."""
    return round(openings / seekers, 2) if seekers else None


def by_trade(cells: dict) -> list[dict]:
    names = dict(Trade.objects.values_list("pk", "name"))
    totals: dict[int, dict] = defaultdict(lambda: {"seekers": 0, "openings": 0, "posts": 0})
    for (trade_id, _area), row in cells.items():
        for k in ("seekers", "openings", "posts"):
            totals[trade_id][k] += row[k]
    rows = [
        {"trade": names.get(t, str(t)), **v, "ratio": _ratio(v["openings"], v["seekers"])}
        for t, v in totals.items()
    ]
    return sorted(rows, key=lambda r: (-r["openings"], -r["seekers"], r["trade"]))


def by_district(cells: dict) -> list[dict]:
    districts = district_of_areas()
    names = dict(Area.objects.values_list("pk", "name"))
    totals: dict[int | None, dict] = defaultdict(lambda: {"seekers": 0, "openings": 0, "posts": 0})
    for (_trade, area_id), row in cells.items():
        key = districts.get(area_id) if area_id else None
        for k in ("seekers", "openings", "posts"):
            totals[key][k] += row[k]
    rows = [
        {
            "district": names.get(d, "未填区域") if d else "未填区域",
            **v,
            "ratio": _ratio(v["openings"], v["seekers"]),
        }
        for d, v in totals.items()
    ]
    return sorted(rows, key=lambda r: (-r["openings"], r["district"]))


def shortage_trades(cells: dict, *, limit: int = 10) -> list[dict]:
    """紧缺工种: trades whose openings outnumber their seekers (求人倍率 > 1), ranked by the ratio weighted
    by how many districts report the shortage, so one district's spike does not top the list."""
    districts = district_of_areas()
    names = dict(Trade.objects.values_list("pk", "name"))
    per: dict[int, dict[int | None, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (trade_id, area_id), row in cells.items():
        cell = per[trade_id][districts.get(area_id) if area_id else None]
        cell[0] += row["openings"]
        cell[1] += row["seekers"]
    rows = []
    for trade_id, by_d in per.items():
        openings = sum(v[0] for v in by_d.values())
        seekers = sum(v[1] for v in by_d.values())
        if openings <= seekers:
            continue
        reporting = sum(1 for d, v in by_d.items() if d is not None and v[0] > v[1])
        ratio = openings / max(seekers, 1)
        rows.append(
            {
                "trade": names.get(trade_id, str(trade_id)),
                "openings": openings,
                "seekers": seekers,
                "ratio": _ratio(openings, seekers),
                "districts": reporting,
                "score": round(ratio * max(reporting, 1), 2),
            }
        )
    return sorted(rows, key=lambda r: (-r["score"], -r["openings"], r["trade"]))[:limit]


def history(
    *, scope: Scope, start: dt.date, end: dt.date, live: dict | None = None, trade_id: int | None = None
) -> list[dict]:
    """Seekers and openings per day from the snapshots in ``[start, end]`` (one trade's, or all); today
    from the live cells."""
    rows = SupplyDemandSnapshot.objects.filter(day__gte=start, day__lte=end)
    if trade_id is not None:
        rows = rows.filter(trade_id=trade_id)
        live = {k: v for k, v in live.items() if k[0] == trade_id} if live is not None else None
    if not scope.everything:
        rows = rows.filter(area_id__in=scope.area_ids)
    days = {
        d: {"seekers": s or 0, "openings": o or 0}
        for d, s, o in rows.values_list("day").annotate(s=Sum("seekers"), o=Sum("openings")).order_by("day")
    }
    today = timezone.localdate()
    if live is not None and start <= today <= end:
        days[today] = {
            "seekers": sum(r["seekers"] for r in live.values()),
            "openings": sum(r["openings"] for r in live.values()),
        }
    return [
        {"day": d.isoformat(), **v, "ratio": _ratio(v["openings"], v["seekers"])}
        for d, v in sorted(days.items())
    ]


# ------------------------------------------------------------------------------------- deals, people


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return since, until


def deal_figures(*, scope: Scope, since: dt.datetime, until: dt.datetime) -> dict:
    """Posts published in the period, their slots and how many were filled (fill rate), the average hours
    from publishing to the last slot taken for posts that filled, and orders confirmed (deals)."""
    posts = Post.objects.filter(scope.posts(), published_at__gte=since, published_at__lt=until)
    agg = posts.aggregate(n=Count("pk"), slots=Sum("slots"), left=Sum("slots_left"))
    slots, left = agg["slots"] or 0, agg["left"] or 0
    last_taken = (
        Order.objects.filter(post=OuterRef("pk")).order_by("-confirmed_at").values("confirmed_at")[:1]
    )
    filled = posts.filter(slots_left=0).annotate(last=Subquery(last_taken)).filter(last__isnull=False)
    took = filled.aggregate(
        avg=Avg(ExpressionWrapper(F("last") - F("published_at"), output_field=DurationField())), n=Count("pk")
    )
    orders = Order.objects.filter(scope.posts("post__"), confirmed_at__gte=since, confirmed_at__lt=until)
    order_agg = orders.aggregate(
        n=Count("pk"),
        completed=Count("pk", filter=Q(status=Order.Status.COMPLETED)),
        paid=Sum("paid_fen"),
    )
    return {
        "posts": agg["n"],
        "slots": slots,
        "filled": slots - left,
        "fill_rate": round((slots - left) / slots, 4) if slots else None,
        "posts_filled": took["n"],
        "avg_hours_to_fill": round(took["avg"].total_seconds() / 3600, 1) if took["avg"] else None,
        "deals": order_agg["n"],
        "completed": order_agg["completed"],
        "paid_fen": order_agg["paid"] or 0,
    }


def registrations_by_point(*, scope: Scope, since: dt.datetime, until: dt.datetime) -> list[dict]:
    users = User.objects.filter(role=User.Role.SEEKER, date_joined__gte=since, date_joined__lt=until)
    if not scope.everything:
        users = users.filter(service_point_id__in=scope.point_ids)
    rows = (
        users.values_list("service_point__name").annotate(n=Count("pk")).order_by("-n", "service_point__name")
    )
    return [{"point": name or "线上自助注册", "n": n} for name, n in rows]


def insurance_figures(*, scope: Scope, since: dt.datetime, until: dt.datetime) -> dict:
    summary = insurance_summary(since=since, until=until, service_point=scope.point)
    return {
        "orders": summary.orders,
        "insured_orders": summary.insured_orders,
        "insured_share": summary.insured_share,
        "premiums_fen": summary.premiums_fen,
        "payouts_fen": summary.payouts_fen,
    }


# ----------------------------------------------------------------------- other areas' figure providers


@dataclass(frozen=True)
class FigureProvider:
    """A dashboard panel filled by another area's selector, called as ``fn(start=, end=, service_point=)``
    with the scope's point (None: everything) and the period either as aware datetimes ``[start, end)``
    or, with ``dates=True``, as the inclusive dates. It returns a dict (or a dataclass). ``labels`` names
    its keys in Chinese; a nested dict's keys are translated through the result's own label dict named
    in ``nested_labels`` (e.g. ``by_status`` → ``status_labels``), and label dicts are not shown. A
    provider whose selector does not exist (yet) shows as 未接入."""

    key: str
    label: str
    path: str  # "package.module.function"
    dates: bool = False
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    nested_labels: dict[str, str] = dataclasses.field(default_factory=dict)


FIGURE_PROVIDERS: dict[str, FigureProvider] = {}


def register_figure_provider(provider: FigureProvider) -> None:
    FIGURE_PROVIDERS[provider.key] = provider


_RATE_LABELS = {"view_rate": "查看率", "claim_rate": "接单率"}
for _provider in (
    FigureProvider(
        "disputes", "纠纷调解与追回工资", "disputes.selectors.case_figures",
        labels={
            "total": "受理案件", "ended": "已结案", "median_days_to_close": "结案天数（中位数）",
            "closed_within_deadline_share": "期限内结案比例", "wages_recovered_fen": "追回工资（元）",
            "workers_helped": "追回工资的工人数", "by_category": "按类别", "by_status": "按状态",
            "wages_recovered_by_source": "追回工资（元）",
        },
        nested_labels={"by_category": "category_labels", "by_status": "status_labels",
                       "wages_recovered_by_source": "source_labels"},
    ),
    FigureProvider(
        "followups", "回访结果", "outreach.selectors.followup_figures", dates=True,
        labels={
            "created": "回访任务", "done": "已回访", "unreachable": "联系不上", "open": "待回访", "overdue": "已逾期",
            "reach_rate": "接通率", "satisfaction_avg": "平均满意度", "paid_in_full_share": "工资足额到手比例",
            "needs_help": "需要帮扶", "wants_training": "想参加培训",
        },
    ),
    FigureProvider(
        "training_needs", "培训需求", "outreach.selectors.training_needs_figures", dates=True,
        labels={
            "skills_wanted": "想学的技能", "needs": "登记需求", "courses": "开班", "seats": "名额", "signups": "报名",
            "attended": "出勤", "absent": "缺勤", "certificates": "结业", "attendance_rate": "出勤率",
        },
    ),
    FigureProvider(
        "funnel", "推荐转化漏斗", "matching.selectors.funnel_figures",
        labels={
            "recommended": "推荐", "sent": "已送达", "viewed": "已查看", "claimed": "已接单/报名", **_RATE_LABELS,
            "by_channel": "按渠道",
        },
        nested_labels={"by_channel": "channels"},
    ),
):  # fmt: skip
    register_figure_provider(_provider)


def resolve_provider(provider: FigureProvider):
    module, _, name = provider.path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _show(key: str, value: Any, labels: dict[str, str] | None = None) -> Any:
    """A figure as the page shows it: yuan for fen, a percentage for a rate or share, a nested dict as
    「推荐 4 / 已送达 3 / 查看率 33.3%」 in the provider's words."""
    if value is None or isinstance(value, bool):
        return value
    if key.endswith("_fen") and isinstance(value, int):
        return _yuan(value)
    if key.endswith(("_rate", "_share")) and isinstance(value, (int, float)):
        return f"{value * 100:.1f}%"
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, dict):
        names = {**_RATE_LABELS, **(labels or {})}
        return " / ".join(f"{names.get(k, k)} {_show(k, v, labels)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        parts = []
        for item in value:
            if isinstance(item, dict):
                parts.append(" ".join(str(v) for v in item.values()))
            else:
                parts.append(str(item))
        return "、".join(parts) or "—"
    return str(value)


def provider_rows(provider: FigureProvider, result: Any) -> list[list]:
    """A provider's result as (label, value) rows for the page and the export."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if not isinstance(result, dict):
        return [[provider.label, _show("", result)]]
    label_dicts = set(provider.nested_labels.values())
    rows: list[list] = []
    for key, value in result.items():
        if key in label_dicts:
            continue
        name = provider.labels.get(key, key)
        if isinstance(value, dict) and key in provider.nested_labels:
            names = result.get(provider.nested_labels[key]) or {}
            rows += [[f"{name}·{names.get(k, k)}", _show(k, v, provider.labels)] for k, v in value.items()]
        else:
            rows.append([name, _show(key, value, provider.labels)])
    return rows


def provider_panels(*, scope: Scope, start: dt.date, end: dt.date) -> list[dict]:
    since, until = _bounds(start, end)
    panels = []
    for provider in FIGURE_PROVIDERS.values():
        fn = resolve_provider(provider)
        if fn is None:
            panels.append({"key": provider.key, "label": provider.label, "available": False, "rows": []})
            continue
        period = {"start": start, "end": end} if provider.dates else {"start": since, "end": until}
        result = fn(**period, service_point=scope.point)
        panels.append(
            {
                "key": provider.key,
                "label": provider.label,
                "available": True,
                "rows": provider_rows(provider, result),
            }
        )
    return panels


# ------------------------------------------------------------------------------------------ dashboard


def dashboard(*, scope: Scope, start: dt.date, end: dt.date, trade_id: int | None = None) -> dict:
    """Every figure of the dashboard for a scope and a period (dates inclusive), JSON-ready. ``trade_id``
    narrows the by-district breakdown and the trend to one trade."""
    if end < start:
        raise DomainError("结束日期不能早于开始日期", field="end")
    since, until = _bounds(start, end)
    live = supply_demand_cells(scope=scope)
    one_trade = {k: v for k, v in live.items() if k[0] == trade_id} if trade_id is not None else live
    return {
        "scope": scope.label,
        "trade": Trade.objects.filter(pk=trade_id).values_list("name", flat=True).first() if trade_id else "",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "today": timezone.localdate().isoformat(),
        "trades": by_trade(live),
        "districts": by_district(one_trade),
        "shortage": shortage_trades(live),
        "history": history(scope=scope, start=start, end=end, live=live, trade_id=trade_id),
        "deals": deal_figures(scope=scope, since=since, until=until),
        "insurance": insurance_figures(scope=scope, since=since, until=until),
        "registrations": registrations_by_point(scope=scope, since=since, until=until),
        "panels": provider_panels(scope=scope, start=start, end=end),
    }


# ------------------------------------------------------------------------------------------ big screen


def screen_points() -> list[ServicePoint]:
    return list(ServicePoint.objects.filter(is_active=True).select_related("area").order_by("kind", "name"))


def _district_id(area: Area) -> int:
    here, hops = area, 0
    while here.level != Area.Level.DISTRICT and here.parent_id and hops < 5:
        here, hops = Area.objects.get(pk=here.parent_id), hops + 1
    return here.pk


def screen_posts(*, point: ServicePoint, limit: int) -> list[Post]:
    """Open posts for a point's big screen, nearest the point first (newest in its district when the
    point has no coordinates), through the board's indexed queries."""
    if point.lat is not None and point.lng is not None:
        query = BoardQuery(lat=float(point.lat), lng=float(point.lng), sort="nearest", limit=50)
    else:
        query = BoardQuery(area_id=_district_id(point.area), sort="newest", limit=50)
    posts: list[Post] = []
    while len(posts) < limit:
        page = board(query)
        posts += page.posts
        if not page.next_cursor:
            break
        query = dataclasses.replace(query, cursor=page.next_cursor)
    return posts[:limit]


def screen_figures() -> dict:
    """Today's figures for the ticker, market-wide."""
    now = timezone.now()
    since = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    open_agg = Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=now).aggregate(
        n=Count("pk"), slots=Sum("slots_left")
    )
    return {
        "open_posts": open_agg["n"],
        "open_slots": open_agg["slots"] or 0,
        "new_posts_today": Post.objects.filter(published_at__gte=since).count(),
        "deals_today": Order.objects.filter(confirmed_at__gte=since).count(),
        "seekers_today": User.objects.filter(role=User.Role.SEEKER, date_joined__gte=since).count(),
    }


def _yuan(fen: int) -> str:
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


def screen_item(post: Post) -> dict:
    start = timezone.localtime(post.starts_at)
    return {
        "id": post.pk,
        "trade": post.trade.name,
        "title": post.title,
        "pay": f"{_yuan(post.pay_fen)}元/{post.get_pay_unit_display()}",
        "place": f"{post.area.name} {post.address}",
        "time": f"{when_text(start)} 开工",
        "slots_left": post.slots_left,
        "slots": post.slots,
        "mode": post.get_mode_display()[:2],
        "verified": post.employer.status == Employer.Status.APPROVED,
        "employer": post.employer.name,
        "km": getattr(post, "distance_km", None),
    }


def screen_payload(*, point: ServicePoint, figures: dict | None = None) -> dict:
    posts = screen_posts(point=point, limit=settings.HALL_SCREEN_POSTS)
    return {
        "point": {"id": point.pk, "name": point.name, "phone": point.phone},
        "posts": [screen_item(p) for p in posts],
        "figures": figures if figures is not None else screen_figures(),
    }  # no timestamp: the same data gives the same bytes, so the ETag holds across cache rebuilds


# --------------------------------------------------------------------------------------------- kiosk


@dataclass
class KioskMatch:
    post: Post
    score: float
    reason: str


def kiosk_posts(*, worker: User, point: ServicePoint, limit: int) -> list[KioskMatch]:
    """Posts to show a worker at the kiosk: the matching area's ``posts_for_worker`` (为你推荐) when it
    finds any, else :func:`kiosk_posts_nearby`. The lead switches here, nowhere else. A post whose hours
    overlap one of the worker's own orders is never offered (抢单 would refuse it at the last tap)."""
    busy = list(blocking_orders(worker=worker).values_list("starts_at", "ends_at"))
    matches = [
        KioskMatch(post=m.post, score=m.score, reason=m.reason)
        for m in posts_for_worker(worker=worker, limit=limit + len(busy))
        if not clashes(m.post, busy)
    ][:limit]
    if matches:
        return matches
    return kiosk_posts_nearby(worker=worker, point=point, limit=limit, busy=busy)


def kiosk_posts_nearby(
    *,
    worker: User,
    point: ServicePoint,
    limit: int,
    busy: list[tuple[dt.datetime, dt.datetime]] | None = None,
) -> list[KioskMatch]:
    """The worker's wanted trades (every trade if none given), nearest the kiosk's point first (newest in
    its district when the point has no coordinates), leaving out posts the worker already took and posts
    that clash with their orders (``busy``: their blocking orders' spans, read here when not given)."""
    if busy is None:
        busy = list(blocking_orders(worker=worker).values_list("starts_at", "ends_at"))
    profile = WorkerProfile.objects.filter(user=worker).first()
    trade_ids = list(profile.wanted_trades.values_list("pk", flat=True)) if profile else []
    taken = set(Claim.objects.filter(worker=worker).values_list("post_id", flat=True))
    if point.lat is not None and point.lng is not None:
        query = BoardQuery(
            trade_ids=trade_ids, lat=float(point.lat), lng=float(point.lng), sort="nearest", limit=50
        )
    else:
        query = BoardQuery(trade_ids=trade_ids, area_id=_district_id(point.area), sort="newest", limit=50)
    out: list[KioskMatch] = []
    for post in board(query).posts:
        if post.pk in taken or clashes(post, busy):
            continue
        km = getattr(post, "distance_km", None)
        reason = "您想干的工种" if trade_ids else "离本网点近"
        if km is not None:
            reason += f"，距本网点{km}公里"
        out.append(KioskMatch(post=post, score=round(1 / (1 + (km or 0)), 3), reason=reason))
        if len(out) >= limit:
            break
    return out


def kiosk_courses(*, worker: User, limit: int = 3) -> list:
    """Open training courses with seats left, the worker's wanted trades first (signed up for through
    ``outreach.services.training_signup``)."""
    wanted = set(
        WorkerProfile.wanted_trades.through.objects.filter(workerprofile__user=worker).values_list(
            "trade_id", flat=True
        )
    )
    courses = list(courses_open().filter(seats_left__gt=0)[:50])
    courses.sort(key=lambda c: (c.trade_id not in wanted, c.starts_on, c.pk))
    return courses[:limit]
