"""Open-data export for the provincial data centre: posts, deals and aggregate figures as JSON or CSV,
behind a bearer token with scopes (hall.models.ExportToken). Personal data is cut to what the exchange
needs: no phones, no contact people, workers only by masked ID number, households by masked name.
Every request, accepted or refused, is logged (hall.models.ExportPull).

    GET /api/v1/open-data/posts/?since=2026-11-01&until=2026-11-30&after=0&limit=500&format=csv
    Authorization: Bearer gmx_…
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Area, Employer
from core.errors import DomainError, NotAllowed
from core.masking import mask_name
from core.services import client_ip
from core.spreadsheets import csv_response
from jobs.models import Order, Post, Trade

from . import selectors, services, throttle
from .models import ExportToken, SupplyDemandSnapshot

POST_FIELDS = [
    "id", "title", "trade", "pay_fen", "pay_unit", "slots", "slots_left", "status", "mode", "district_code",
    "area_code", "starts_at", "ends_at", "published_at", "employer", "employer_kind", "employer_uscc",
    "employer_verified", "service_point",
]  # fmt: skip
DEAL_FIELDS = [
    "id", "post_id", "trade", "district_code", "employer", "worker_id_masked", "status", "starts_at",
    "ends_at", "confirmed_at", "completed_at", "amount_fen", "paid_fen", "insured",
]  # fmt: skip
FIGURE_FIELDS = ["day", "trade", "district_code", "area_code", "seekers", "openings", "posts_open"]


def _date(params, name: str) -> dt.date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise DomainError("日期格式应为 YYYY-MM-DD", field=name) from exc


def _window(params) -> tuple[dt.datetime, dt.datetime]:
    today = timezone.localdate()
    until = _date(params, "until") or today
    since = _date(params, "since") or until - dt.timedelta(days=30)
    if until < since:
        raise DomainError("until 不能早于 since", field="until")
    if (until - since).days > settings.HALL_EXPORT_MAX_DAYS:
        raise DomainError(f"时间跨度不能超过{settings.HALL_EXPORT_MAX_DAYS}天", field="since")
    return (
        timezone.make_aware(dt.datetime.combine(since, dt.time.min)),
        timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min)),
    )


def _int(params, name: str, default: int, low: int, high: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise DomainError(f"{name} 应为 {low}–{high} 的整数", field=name)
    return int(value)


def _employer_name(employer: Employer) -> str:
    # A household is a private person: only the surname leaves the platform.
    return mask_name(employer.name) if employer.kind == Employer.Kind.HOUSEHOLD else employer.name


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _posts(params) -> tuple[list[dict], int | None]:
    since, until = _window(params)
    after = _int(params, "after", 0, 0, 2**62)
    limit = _int(params, "limit", 500, 1, settings.HALL_EXPORT_PAGE_MAX)
    posts = list(
        Post.objects.exclude(status=Post.Status.DRAFT)
        .filter(published_at__gte=since, published_at__lt=until, pk__gt=after)
        .select_related("trade", "area", "district", "employer", "service_point")
        .order_by("pk")[: limit + 1]
    )
    rows = [
        {
            "id": p.pk, "title": p.title, "trade": p.trade.name, "pay_fen": p.pay_fen, "pay_unit": p.pay_unit,
            "slots": p.slots, "slots_left": p.slots_left, "status": p.status, "mode": p.mode,
            "district_code": p.district.code, "area_code": p.area.code, "starts_at": _iso(p.starts_at),
            "ends_at": _iso(p.ends_at), "published_at": _iso(p.published_at),
            "employer": _employer_name(p.employer), "employer_kind": p.employer.kind,
            "employer_uscc": p.employer.uscc or "",
            "employer_verified": p.employer.status == Employer.Status.APPROVED,
            "service_point": p.service_point.name if p.service_point else "",
        }
        for p in posts[:limit]
    ]  # fmt: skip
    return rows, (rows[-1]["id"] if len(posts) > limit else None)


def _deals(params) -> tuple[list[dict], int | None]:
    since, until = _window(params)
    after = _int(params, "after", 0, 0, 2**62)
    limit = _int(params, "limit", 500, 1, settings.HALL_EXPORT_PAGE_MAX)
    orders = list(
        Order.objects.filter(confirmed_at__gte=since, confirmed_at__lt=until, pk__gt=after)
        .select_related("post__trade", "post__district", "employer", "worker__realname", "policy")
        .order_by("pk")[: limit + 1]
    )
    rows = []
    for o in orders[:limit]:
        realname = getattr(o.worker, "realname", None)
        policy = getattr(o, "policy", None)
        rows.append(
            {
                "id": o.pk, "post_id": o.post_id, "trade": o.post.trade.name,
                "district_code": o.post.district.code, "employer": _employer_name(o.employer),
                "worker_id_masked": realname.id_masked if realname else "", "status": o.status,
                "starts_at": _iso(o.starts_at), "ends_at": _iso(o.ends_at), "confirmed_at": _iso(o.confirmed_at),
                "completed_at": _iso(o.completed_at), "amount_fen": o.amount_fen, "paid_fen": o.paid_fen,
                "insured": bool(policy and policy.status in policy.BOUGHT),
            }
        )  # fmt: skip
    return rows, (rows[-1]["id"] if len(orders) > limit else None)


def _figures(params) -> tuple[list[dict], None]:
    """Supply and demand per trade × area for a day: the snapshot, or today's live figures."""
    day = _date(params, "day") or timezone.localdate()
    districts = selectors.district_of_areas()
    codes = dict(Area.objects.values_list("pk", "code"))
    trades = dict(Trade.objects.values_list("pk", "name"))
    if day == timezone.localdate():
        cells = selectors.supply_demand_cells(scope=selectors.Scope(None, None, None, ""), day=day)
        source = [(t, a, v["seekers"], v["openings"], v["posts"]) for (t, a), v in cells.items()]
    else:
        source = SupplyDemandSnapshot.objects.filter(day=day).values_list(
            "trade_id", "area_id", "seekers", "openings", "posts_open"
        )
    rows = [
        {
            "day": day.isoformat(),
            "trade": trades.get(t, str(t)),
            "district_code": codes.get(districts.get(a), "") if a else "",
            "area_code": codes.get(a, "") if a else "",
            "seekers": s,
            "openings": o,
            "posts_open": n,
        }
        for t, a, s, o, n in source
    ]
    return sorted(rows, key=lambda r: (r["trade"], r["area_code"])), None


DATASETS = {
    ExportToken.Scope.POSTS: (_posts, POST_FIELDS),
    ExportToken.Scope.DEALS: (_deals, DEAL_FIELDS),
    ExportToken.Scope.FIGURES: (_figures, FIGURE_FIELDS),
}


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def _error(status: int, code: str, detail: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"code": code, "detail": detail, "fields": {field: [detail]} if field else {}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _limited(refusal: throttle.Refusal) -> JsonResponse:
    response = _error(429, refusal.code, refusal.detail)
    response["Retry-After"] = str(refusal.retry_after)
    return response


@require_GET
def open_data(request, dataset: str):
    params = dict(request.GET.items())
    address = client_ip(request)
    token = None

    def log(status: int, rows: int = 0) -> None:
        services.export_pull_log(
            token=token,
            endpoint=dataset,
            params=params,
            status_code=status,
            row_count=rows,
            client_address=address,
        )

    refusal = throttle.address_refusal(address)
    if refusal is not None:
        log(429)
        return _limited(refusal)
    if dataset not in DATASETS:
        log(404)
        return _error(404, "not_found", "没有这个数据集")
    raw = _bearer(request)
    try:
        token = services.export_token_check(raw=raw, scope=dataset)
    except NotAllowed as exc:
        # An unknown token is not recorded against anyone; a known one out of scope is.
        token = ExportToken.objects.filter(token_hash=services._hash(raw)).first() if raw else None
        status = 403 if exc.code == "scope" else 401
        log(status)
        response = _error(status, exc.code, exc.message)
        if status == 401:
            throttle.bad_token_seen(address)
            response["WWW-Authenticate"] = 'Bearer realm="open-data"'
        return response
    refusal = throttle.token_refusal(token)
    if refusal is not None:
        log(429)
        return _limited(refusal)
    build, fields = DATASETS[dataset]
    try:
        rows, next_after = build(request.GET)
    except DomainError as exc:
        log(400)
        return _error(400, exc.code, exc.message, exc.field)
    log(200, len(rows))
    if params.get("format") == "csv":
        # Titles and employer names are typed by people: core.spreadsheets neutralises formulas.
        table = [fields, *([row[name] for name in fields] for row in rows)]
        response = csv_response(table, filename=f"{dataset}.csv")
        if next_after is not None:
            response["X-Next-After"] = str(next_after)
    else:
        body = json.dumps(
            {"results": rows, "next_after": next_after, "count": len(rows)},
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
        )
        response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
