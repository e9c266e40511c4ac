"""Job reads: the public board with keyword search, filters, sorting and keyset pagination; what each
party may see of posts, claims and orders."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, FloatField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Sqrt
from django.utils import timezone

from accounts.models import Area, Employer, EmployerMember, User
from core.errors import DomainError
from core.masking import mask_phone

from .models import Block, Claim, Contract, Order, OrderEvent, Post, Rating, WorkerStats
from .search import keyword_filter

PAGE_SIZE = 20
SORTS = ("newest", "nearest", "pay")
KM_PER_DEGREE = 111.195


@dataclass
class BoardQuery:
    q: str = ""
    trade_ids: list[int] = field(default_factory=list)
    area_id: int | None = None  # a district or a street/town
    pay_unit: str = ""
    pay_min_fen: int | None = None
    date: dt.date | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    sort: str = "newest"
    cursor: str = ""
    limit: int = PAGE_SIZE


@dataclass
class BoardPage:
    posts: list[Post]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, *, number: bool = False) -> list[Any]:
    """A cursor's (sort key, id); the key is a number for the pay and distance sorts, else a timestamp."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError("翻页参数无效，请从第一页重新开始", field="cursor") from exc
    if not isinstance(values, list) or len(values) != 2:
        raise DomainError("翻页参数无效，请从第一页重新开始", field="cursor")
    # A hand-made cursor must not reach the query with the wrong types (that would be a 500).
    key, pk = values
    key_ok = isinstance(key, (int, float) if number else str) and not isinstance(key, bool)
    if not key_ok or not isinstance(pk, int) or isinstance(pk, bool):
        raise DomainError("翻页参数无效，请从第一页重新开始", field="cursor")
    return values


def board(query: BoardQuery, *, now: dt.datetime | None = None) -> BoardPage:
    """Open posts for the public board: two queries per page, whatever the filters. The first finds the
    page's ids on jobs_post alone (index work, no joins); the second loads those rows with their trade,
    employer and places. Joining first would join every match before the sort picks twenty."""
    now = now or timezone.now()
    if query.sort not in SORTS:
        raise DomainError("排序方式不正确", field="sort")
    if query.sort == "nearest" and (query.lat is None or query.lng is None):
        raise DomainError("按距离排序需要您的位置", field="lat")
    qs = Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=now)
    keyword = keyword_filter(query.q) if query.q else None
    if keyword is not None:
        qs = qs.filter(keyword)
    if query.trade_ids:
        qs = qs.filter(trade_id__in=query.trade_ids)
    if query.area_id:
        qs = qs.filter(
            Q(district_id=query.area_id) | Q(area_id=query.area_id) | Q(area__parent_id=query.area_id)
        )
    if query.pay_unit:
        qs = qs.filter(pay_unit=query.pay_unit)
    if query.pay_min_fen:
        qs = qs.filter(pay_fen__gte=query.pay_min_fen)
    if query.date:
        if not dt.date(2000, 1, 1) <= query.date <= dt.date(2100, 1, 1):
            raise DomainError("日期超出范围", field="date")
        start = timezone.make_aware(dt.datetime.combine(query.date, dt.time.min))
        qs = qs.filter(starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1))
    if query.lat is not None and query.lng is not None:
        # Local equirectangular distance in degrees of latitude: exact enough at city scale. On PostgreSQL it
        # is the ``<->`` of two points, which the GiST index jobs_post_geo_knn answers nearest-first without
        # sorting the city (migration 0005); elsewhere the same figure as plain arithmetic.
        k = geo_scale()
        if connection.vendor == "postgresql":
            # k is a float computed from settings, never user input; the query point goes in as parameters.
            dist = RawSQL(  # noqa: S611
                f"point(jobs_post.lng * {k!r}, jobs_post.lat) <-> point(%s, %s)",
                (query.lng * k, query.lat),
                output_field=FloatField(),
            )
        else:
            dist = Sqrt(
                (F("lat") - Value(query.lat)) * (F("lat") - Value(query.lat))
                + (F("lng") - Value(query.lng)) * (F("lng") - Value(query.lng)) * Value(k * k),
                output_field=FloatField(),
            )
        qs = qs.filter(lat__isnull=False).annotate(dist=dist)
        # Nearest-first pages walk the KNN index and stop after a page: the radius is applied to what the
        # walk returns (below), since a radius in the query would make the planner fetch and sort every
        # post inside it instead.
        if query.radius_km and query.sort != "nearest":
            deg = query.radius_km / KM_PER_DEGREE
            qs = qs.filter(
                lat__range=(query.lat - deg, query.lat + deg),
                lng__range=(query.lng - deg / max(k, 0.01), query.lng + deg / max(k, 0.01)),
                dist__lte=deg,
            )
    limit = max(1, min(int(query.limit or PAGE_SIZE), 50))
    if query.sort == "newest":
        order, key = ("-published_at", "-id"), lambda p: [p.published_at.isoformat(), p.pk]
        if query.cursor:
            published, pk = _decode(query.cursor)
            moment = _parse_moment(published)
            qs = qs.filter(Q(published_at__lt=moment) | Q(published_at=moment, id__lt=pk))
    elif query.sort == "pay":
        order, key = ("-pay_fen", "-id"), lambda p: [p.pay_fen, p.pk]
        if query.cursor:
            pay, pk = _decode(query.cursor, number=True)
            qs = qs.filter(Q(pay_fen__lt=pay) | Q(pay_fen=pay, id__lt=pk))
    else:
        order, key = ("dist", "id"), lambda p: [p.dist, p.pk]
        if query.cursor:
            d, pk = _decode(query.cursor, number=True)
            qs = qs.filter(Q(dist__gt=d) | Q(dist=d, id__gt=pk))
    near = query.sort == "nearest"
    if near:
        rows = _nearest_rows(qs, limit + 1)
    else:
        rows = [(pk, None) for pk in qs.order_by(*order).values_list("pk", flat=True)[: limit + 1]]
    more = len(rows) > limit
    if near and query.radius_km:
        inside = [row for row in rows if row[1] * KM_PER_DEGREE <= query.radius_km]
        more = more and len(inside) == len(rows)
        rows = inside
    rows = rows[:limit]
    related = Post.objects.select_related("trade", "employer", "area", "district").order_by()
    loaded = related.in_bulk([r[0] for r in rows])
    posts = []
    for pk, dist in rows:
        post = loaded[pk]
        if near:
            post.dist, post.distance_km = dist, round(dist * KM_PER_DEGREE, 1)
        posts.append(post)
    return BoardPage(posts=posts, next_cursor=_encode(key(posts[-1])) if more and posts else None)


NEAREST_SLACK = 20


def _nearest_rows(qs: QuerySet[Post], count: int) -> list[tuple[int, float]]:
    """The first ``count`` (id, distance) rows in (distance, id) order. The KNN index walks in distance
    order only (PostgreSQL will not use it for ORDER BY distance, id), so a few more rows than needed come
    from the walk and are put in (distance, id) order here; that is exact unless posts tied at the page's
    last distance run past what was fetched (many posts at one address), and then the plain sort decides."""
    fetch = count + NEAREST_SLACK
    rows = sorted(qs.order_by("dist").values_list("pk", "dist")[:fetch], key=lambda r: (r[1], r[0]))
    if len(rows) == fetch and rows[count - 1][1] == rows[-1][1]:
        rows = list(qs.order_by("dist", "id").values_list("pk", "dist")[:count])
    return rows[:count]


def geo_scale() -> float:
    """cos(latitude) of the market's city: one constant, so the same expression can be indexed (migration
    jobs 0005 builds the index with it; change GEO_CITY_LATITUDE → rebuild that index)."""
    return round(math.cos(math.radians(settings.GEO_CITY_LATITUDE)), 6)


def _parse_moment(value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise DomainError("翻页参数无效，请从第一页重新开始", field="cursor") from exc
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def districts_and_streets() -> QuerySet[Area]:
    return Area.objects.filter(level__in=(Area.Level.DISTRICT, Area.Level.STREET)).order_by("code")


# ------------------------------------------------------------------------------------ visibility


def post_visible(*, pk: int, user: User | None) -> Post:
    """A post anyone may see once published; drafts only for the employer's members (else 404)."""
    post = Post.objects.select_related("trade__certificate_type", "employer", "area", "district").get(pk=pk)
    if post.status == Post.Status.DRAFT and not (
        user is not None and user.is_authenticated and is_member(employer_id=post.employer_id, user=user)
    ):
        raise Post.DoesNotExist
    return post


def is_member(*, employer_id: int, user: User) -> bool:
    return EmployerMember.objects.filter(employer_id=employer_id, user=user).exists()


def contact_phone_for(*, post: Post, user: User | None) -> str:
    """The contact number is shown in full only to the employer's members and to workers holding a
    confirmed (or later) order on this post; everyone else sees it masked."""
    if user is not None and user.is_authenticated:
        if is_member(employer_id=post.employer_id, user=user):
            return post.contact_phone
        if Order.objects.filter(
            post=post, worker=user, status__in=(*Order.ACTIVE, Order.Status.COMPLETED, Order.Status.DISPUTED)
        ).exists():
            return post.contact_phone
    return mask_phone(post.contact_phone)


def posts_for_employer_member(*, user: User) -> QuerySet[Post]:
    return (
        Post.objects.filter(employer__in=Employer.objects.filter(memberships__user=user))
        .select_related("trade", "employer", "area")
        .order_by("-created_at", "-pk")
    )


def post_for_member(*, pk: int, user: User) -> Post:
    return posts_for_employer_member(user=user).get(pk=pk)


def applicants(*, post: Post) -> QuerySet[Claim]:
    return (
        post.claims.select_related("worker__realname", "worker__worker_profile", "worker__worker_stats")
        .prefetch_related("worker__certificates__cert_type")
        .order_by("status", "created_at")
    )


def claims_for_worker(*, user: User) -> QuerySet[Claim]:
    return Claim.objects.filter(worker=user).select_related("post__trade", "post__area", "post__employer")


def orders_for_worker(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(worker=user).select_related(
        "post__trade", "post__area", "employer", "contract"
    )


def orders_for_employer_member(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(employer__memberships__user=user).select_related(
        "post__trade", "post__area", "worker__realname", "contract"
    )


def order_for_party(*, pk: int, user: User) -> Order:
    """An order its worker or its employer's members may open; anyone else gets DoesNotExist (→ 404)."""
    return (
        Order.objects.filter(Q(worker=user) | Q(employer__memberships__user=user))
        .select_related("post__trade", "post__area", "employer", "worker__realname", "contract")
        .distinct()
        .get(pk=pk)
    )


def contract_for_party(*, order_pk: int, user: User) -> Contract:
    return order_for_party(pk=order_pk, user=user).contract


def order_ratings(*, order: Order) -> dict[str, Rating]:
    return {r.direction: r for r in order.ratings.all()}


def worker_stats(*, user: User) -> WorkerStats | None:
    return WorkerStats.objects.filter(user=user).first()


def blocks_for_employer(*, employer: Employer) -> QuerySet[Block]:
    return employer.blocks.select_related("worker")


def employer_rating(*, employer: Employer) -> tuple[float | None, int]:
    """Average stars workers gave this employer, and how many ratings."""
    from django.db.models import Avg, Count

    agg = Rating.objects.filter(
        order__employer=employer, direction=Rating.Direction.WORKER_TO_EMPLOYER
    ).aggregate(avg=Avg("stars"), n=Count("id"))
    return (round(agg["avg"], 1) if agg["avg"] is not None else None), agg["n"]


def blocking_orders(*, worker) -> QuerySet[Order]:
    """The worker's orders that keep them from taking another post at the same time: the active ones, and a
    disputed one that was active when the dispute began (the claim gate's rule, jobs.services)."""
    origin = (
        OrderEvent.objects.filter(order=OuterRef("pk"), to_status=Order.Status.DISPUTED)
        .exclude(from_status=Order.Status.DISPUTED)
        .order_by("-pk")
        .values("from_status")[:1]
    )
    return (
        Order.objects.filter(worker=worker)
        .annotate(disputed_from=Subquery(origin))
        .filter(Q(status__in=Order.ACTIVE) | Q(status=Order.Status.DISPUTED, disputed_from__in=Order.ACTIVE))
    )


def clashes(post: Post, spans: list[tuple[dt.datetime, dt.datetime]]) -> bool:
    """Whether the post's time overlaps any of the (start, end) spans (e.g. of :func:`blocking_orders`)."""
    return any(start < post.ends_at and end > post.starts_at for start, end in spans)
