"""Job reads: the public board with keyword search, filters, sorting and keyset pagination; what each
party may see of posts, claims and orders."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, F, FloatField, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Cast, Floor, Sqrt
from django.utils import timezone

from accounts.models import Area, Employer, EmployerMember, User
from core import prepared
from core.errors import DomainError
from core.masking import mask_phone

from .models import Block, Claim, Contract, Order, OrderEvent, Post, Rating, WorkerStats
from .search import STORED_VECTOR, keyword_filter, query_tokens, to_tsquery

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
    # With ``board(..., rows=True)`` on PostgreSQL: the page as plain tuples in ROW_FIELDS order instead of
    # model instances (``posts`` is then empty).
    rows: list[tuple] | None = None


# The board's row as one statement: the post with its trade, employer and places (jobs.serializers
# board_row renders it). Fixed text: the ids go in as a subquery or parameters.
ROW_FIELDS = (
    "id", "title", "pay_fen", "pay_unit", "slots", "slots_left", "address", "lat", "lng", "starts_at",
    "ends_at", "mode", "insurance_required", "published_at", "trade_id", "trade_name", "employer_id",
    "employer_name", "employer_kind", "employer_status", "area_id", "area_name", "district_id",
    "district_name",
)  # fmt: skip
_ROW_SELECT = (
    "SELECT p.id, p.title, p.pay_fen, p.pay_unit, p.slots, p.slots_left, p.address, p.lat, p.lng, "
    "p.starts_at, p.ends_at, p.mode, p.insurance_required, p.published_at, p.trade_id, "
    "(SELECT t.name FROM jobs_trade t WHERE t.id = p.trade_id), e.id, e.name, e.kind, e.status, p.area_id, "
    "(SELECT a.name FROM accounts_area a WHERE a.id = p.area_id), p.district_id, "
    "(SELECT d.name FROM accounts_area d WHERE d.id = p.district_id){extra} FROM {source} "
    "CROSS JOIN LATERAL (SELECT e.id, e.name, e.kind, e.status FROM accounts_employer e "
    "WHERE e.id = p.employer_id OFFSET 0) e"
)  # Names by key for each of the page's rows (the foreign keys are required): planning a five-table join
# cost PostgreSQL more than running it (1.3–1.5 ms against 0.3 ms), and given an id list it hashed every
# employer.
_ROW_SQL = _ROW_SELECT.format(extra="", source="jobs_post p") + " WHERE p.id IN ({ids})"
# A nearest-first statement's (id, dist) rows with their ROW_FIELDS, in its order: one round trip a ring.
_NEAR_ROWS_SQL = (
    _ROW_SELECT.format(extra=", n.dist", source="({near}) n JOIN jobs_post p ON p.id = n.id")
    + " ORDER BY n.dist, n.id"
)
_ROW_INDEX = {name: i for i, name in enumerate(ROW_FIELDS)}


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, *, number: bool = False, hint: bool = False) -> list[Any]:
    """A cursor's (sort key, id); the key is a number for the pay and distance sorts, else a timestamp."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError("翻页参数无效，请从第一页重新开始", field="cursor") from exc
    # Nearest-first cursors carry a third number: the ring width that filled the last page (a hint).
    if not isinstance(values, list) or len(values) not in ((2, 3) if hint else (2,)):
        raise DomainError("翻页参数无效，请从第一页重新开始", field="cursor")
    # A hand-made cursor must not reach the query with the wrong types (that would be a 500).
    key, pk, *hint = values
    key_ok = isinstance(key, (int, float) if number else str) and not isinstance(key, bool)
    hint_ok = all(isinstance(h, (int, float)) and not isinstance(h, bool) and 0 < h <= 10 for h in hint)
    if not key_ok or not hint_ok or not isinstance(pk, int) or isinstance(pk, bool):
        raise DomainError("翻页参数无效，请从第一页重新开始", field="cursor")
    return values


def board(query: BoardQuery, *, now: dt.datetime | None = None, rows: bool = False) -> BoardPage:
    """Open posts for the public board. The page's ids are found on jobs_post alone (index work, no joins)
    and only those rows are loaded with their trade, employer and places: joining first would join every
    match before the sort picks twenty. Newest and best-paid do both in one statement (the ids as an
    ``IN`` subquery); keyword pages and nearest-first find the ids first (jobs_post_token, distance rings).

    Pages are true keyset pages: the cursor is the last row's (sort key, id), and the next page is the rows
    after it as one row-value comparison, ``(published_at, id) < (x, y)``, which the b-tree index of that
    sort seeks to (an Index Cond), so the 5,000th page costs what the first does. Nearest-first pages seek
    by distance ring on a grid index instead (:func:`_nearest_rows`).

    ``rows=True`` (the API, PostgreSQL): the page's rows as tuples (ROW_FIELDS), by :func:`_board_rows`,
    which writes the same statements as SQL text (no QuerySet, no ORM compiling, no model instances): what
    the JSON needs, for a fraction of the Python. The two paths answer the same pages (tests compare them)."""
    now = now or timezone.now()
    if query.sort not in SORTS:
        raise DomainError("排序方式不正确", field="sort")
    if query.sort == "nearest" and (query.lat is None or query.lng is None):
        raise DomainError("按距离排序需要您的位置", field="lat")
    if rows and connection.vendor == "postgresql":
        return _board_rows(query, now)
    qs = Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=now)
    keyword = keyword_filter(query.q) if query.q else None
    near = query.sort == "nearest"
    if keyword is not None and not near:  # nearest applies it where it is cheapest (_nearest_rows)
        qs = qs.filter(keyword)
    district, area_ids = _area_scope(query.area_id) if query.area_id else (None, [])
    if query.area_id and not district and not area_ids:
        return BoardPage(posts=[], next_cursor=None)  # no such area
    if district:  # every post carries its district: one equality, its own keyset index
        qs = qs.filter(district_id=district)
    if query.pay_unit:
        qs = qs.filter(pay_unit=query.pay_unit)
    if query.pay_min_fen:
        qs = qs.filter(pay_fen__gte=query.pay_min_fen)
    if query.date:
        start = _day_start(query.date)
        qs = qs.filter(starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1))
    if query.lat is not None and query.lng is not None:
        qs = qs.filter(lat__isnull=False).annotate(dist=distance_expression(query.lat, query.lng))
        if query.radius_km and not near:  # nearest applies the radius as it widens its rings
            (lat0, lat1), (lng0, lng1), deg = _radius_box(query.lat, query.lng, query.radius_km)
            qs = qs.filter(lat__range=(lat0, lat1), lng__range=(lng0, lng1), dist__lte=deg)
    # The list filters: trades, and a street or village with its villages. A newest/best-paid page may be
    # driven by one of them (_merged_ids), one value at a time: ``unlisted`` holds every condition but that.
    lists = {"trade_id": query.trade_ids, "area_id": area_ids if query.area_id and not district else None}
    driver = next((c for c, values in lists.items() if values and len(values) > 1), None)
    unlisted = qs
    for column, values in lists.items():
        if values is not None and (values or column == "area_id"):
            qs = qs.filter(**{f"{column}__in": values})
            if column != driver:
                unlisted = unlisted.filter(**{f"{column}__in": values})
    limit = _limit(query)
    fields, after, ring = _seek(query)
    if query.sort == "newest":
        key = lambda p: [p.published_at.isoformat(), p.pk]  # noqa: E731
    elif query.sort == "pay":
        key = lambda p: [p.pay_fen, p.pk]  # noqa: E731
    else:
        key = lambda p: [p.dist, p.pk, ring[0]]  # noqa: E731
    related = (
        Post.objects.select_related("trade", "employer", "area", "district")
        .defer("search_tokens", "description")
        .order_by()
    )
    ids = None
    if near:
        radius = query.radius_km / KM_PER_DEGREE if query.radius_km else None
        tokens = query_tokens(query.q) if keyword is not None else []
        scope = _compiled(qs) if connection.vendor == "postgresql" else qs
        rows = _nearest_rows(scope, query.lat, query.lng, after, limit + 1, radius, keyword, tokens, ring)
    elif keyword is not None:
        ids = _keyword_rows(_compiled(qs), query_tokens(query.q), fields[0], after, limit + 1)
    if not near and ids is None:
        # The page's ids as a subquery of the query that loads the rows: one round trip.
        if after is not None:
            seek = TupleLessThan(Tuple(*(F(f) for f in fields)), after)
            qs, unlisted = qs.filter(seek), unlisted.filter(seek)
        if driver is not None and connection.vendor == "postgresql":
            sql, params = _merged_ids(_compiled(unlisted), driver, lists[driver], fields[0], limit + 1)
            page = RawSQL(sql, params)  # noqa: S611  (fixed text, values as parameters)
        else:
            page = qs.order_by(*(F(f).desc() for f in fields)).values("pk")[: limit + 1]
        loaded = sorted(
            related.filter(pk__in=page), key=lambda p: [getattr(p, f) for f in fields], reverse=True
        )
        rows = [(p.pk, None) for p in loaded]
        loaded = {p.pk: p for p in loaded}
    else:
        if not near:
            rows = [(pk, None) for pk in ids]
        loaded = related.in_bulk([r[0] for r in rows[:limit]])
    more = len(rows) > limit
    rows = rows[:limit]
    posts = []
    for row in rows:
        pk, dist = row[0], row[-1]
        post = loaded[pk]
        if near:
            post.dist, post.distance_km = dist, round(dist * KM_PER_DEGREE, 1)
        posts.append(post)
    return BoardPage(posts=posts, next_cursor=_encode(key(posts[-1])) if more and posts else None)


def _limit(query: BoardQuery) -> int:
    return max(1, min(int(query.limit or PAGE_SIZE), 50))


def _seek(query: BoardQuery) -> tuple[tuple[str, str], tuple | None, list[float]]:
    """The sort's key columns, the cursor's (key, id) to start after (None on page 1) and, for nearest
    first, the ring width to start from (a list, so the rings can hand back the width that filled the
    page)."""
    ring = [GEO_CELL]
    if query.sort == "newest":
        after = None
        if query.cursor:
            published, pk = _decode(query.cursor)
            after = (_parse_moment(published), pk)
        return ("published_at", "id"), after, ring
    if query.sort == "pay":
        return ("pay_fen", "id"), tuple(_decode(query.cursor, number=True)) if query.cursor else None, ring
    after = tuple(_decode(query.cursor, number=True, hint=True)) if query.cursor else None
    hint = after[2] if after is not None and len(after) == 3 else GEO_CELL
    ring[0] = min(max(float(hint), GEO_CELL), 64 * GEO_CELL)  # a hand-made hint cannot cost more
    return ("dist", "id"), (after[:2] if after is not None else None), ring


def _day_start(day: dt.date) -> dt.datetime:
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 1, 1):
        raise DomainError("日期超出范围", field="date")
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _radius_box(lat: float, lng: float, radius_km: float):
    """The (lat range, lng range) around a position that holds its radius, and the radius in degrees."""
    deg = radius_km / KM_PER_DEGREE
    k = max(geo_scale(), 0.01)
    return (lat - deg, lat + deg), (lng - deg / k, lng + deg / k), deg


class _Where:
    """SQL conditions on ``jobs_post`` and their parameters (PostgreSQL): what a QuerySet's WHERE compiles
    to, written directly by :func:`_board_rows` or compiled from a QuerySet by :func:`_compiled`."""

    __slots__ = ("params", "parts")

    def __init__(self, parts: list[str] | None = None, params: list | None = None) -> None:
        self.parts = parts or []
        self.params = params or []

    def add(self, sql: str, *params) -> _Where:
        self.parts.append(sql)
        self.params.extend(params)
        return self

    def copy(self) -> _Where:
        return _Where(list(self.parts), list(self.params))

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "TRUE"


def _compiled(qs: QuerySet[Post]) -> _Where:
    where, params = qs.query.get_compiler(connection=connection).compile(qs.query.where)
    return _Where([where] if where else [], list(params))


def _in(column: str, values: list) -> str:
    return f"jobs_post.{column} IN ({', '.join(['%s'] * len(values))})"


def _distance_sql(table: str = "jobs_post") -> str:
    """The distance of a row from a position given as two parameters (scaled longitude, latitude): the
    text :func:`distance_expression` compiles to, on ``table``'s lat and lng."""
    return f"point({table}.lng * {geo_scale()!r}, {table}.lat) <-> point(%s, %s)"


def _board_rows(query: BoardQuery, now: dt.datetime) -> BoardPage:
    """:func:`board` for the API on PostgreSQL: the same conditions, seeks and statements as its QuerySet
    path, written as SQL text with parameters; the page as tuples in ROW_FIELDS order (a nearest-first row
    ends with its distance). A page nobody had cached spent more Python building and compiling QuerySets
    than PostgreSQL spent answering them."""
    near = query.sort == "nearest"
    tokens = query_tokens(query.q) if query.q else []
    district, area_ids = _area_scope(query.area_id) if query.area_id else (None, [])
    if query.area_id and not district and not area_ids:
        return BoardPage(posts=[], next_cursor=None, rows=[])  # no such area
    where = _Where(["jobs_post.status = 'open'", "jobs_post.starts_at > %s"], [now])
    if tokens and not near:  # nearest applies the words where it is cheapest (_nearest_rows)
        where.add(f"jobs_post.{STORED_VECTOR} @@ to_tsquery('simple', %s)", to_tsquery(tokens))
    if district:
        where.add("jobs_post.district_id = %s", district)
    if query.pay_unit:
        where.add("jobs_post.pay_unit = %s", query.pay_unit)
    if query.pay_min_fen:
        where.add("jobs_post.pay_fen >= %s", query.pay_min_fen)
    if query.date:
        start = _day_start(query.date)
        where.add(
            "jobs_post.starts_at >= %s AND jobs_post.starts_at < %s", start, start + dt.timedelta(days=1)
        )
    if query.lat is not None and query.lng is not None:
        where.add("jobs_post.lat IS NOT NULL")
        if query.radius_km and not near:
            (lat0, lat1), (lng0, lng1), deg = _radius_box(query.lat, query.lng, query.radius_km)
            where.add(
                f"jobs_post.lat BETWEEN %s AND %s AND jobs_post.lng BETWEEN %s AND %s AND {_distance_sql()} <= %s",
                lat0, lat1, lng0, lng1, query.lng * geo_scale(), query.lat, deg,
            )  # fmt: skip
    lists = {"trade_id": query.trade_ids, "area_id": area_ids if query.area_id and not district else None}
    driver = next((c for c, values in lists.items() if values and len(values) > 1), None)
    unlisted = where.copy()
    for column, values in lists.items():
        if values:
            where.add(_in(column, values), *values)
            if column != driver:
                unlisted.add(_in(column, values), *values)
    limit = _limit(query)
    fields, after, ring = _seek(query)
    if near:
        radius = query.radius_km / KM_PER_DEGREE if query.radius_km else None
        near = _NearSql(where, query.lat, query.lng, after, radius, tokens, rows=True)
        found = _nearest_rows(near, query.lat, query.lng, after, limit + 1, radius, None, tokens, ring)
        return _rows_page(found, limit, lambda r: [r[-1], r[0], ring[0]], None)
    column = fields[0]
    index = _ROW_INDEX[column]
    if column == "published_at":
        key_of_row = lambda r: [r[index].isoformat(), r[0]]  # noqa: E731
    else:
        key_of_row = lambda r: [r[index], r[0]]  # noqa: E731
    if tokens:
        ids = _keyword_rows(where, tokens, column, after, limit + 1)
        if ids is not None:
            return _loaded_page([(pk, None) for pk in ids], limit, key_of_row)
    if after is not None:
        seek = f"(jobs_post.{column}, jobs_post.id) < (%s, %s)"
        where.add(seek, *after)
        unlisted.add(seek, *after)
    if driver is not None:
        sql, params = _merged_ids(unlisted, driver, lists[driver], column, limit + 1)
    else:
        sql = (
            f"SELECT jobs_post.id FROM jobs_post WHERE {where.sql} "  # noqa: S608  (fixed text)
            f"ORDER BY jobs_post.{column} DESC, jobs_post.id DESC LIMIT %s"
        )
        params = [*where.params, limit + 1]
    found = sorted(_load_rows(sql, params), key=lambda r: (r[index], r[0]), reverse=True)
    return _rows_page(found, limit, key_of_row, None)


def _loaded_page(wanted: list[tuple[int, float | None]], limit: int, key_of_row) -> BoardPage:
    """The page of (id, distance or None) rows found in order: their ROW_FIELDS in one statement."""
    page = wanted[:limit]
    by_id = {r[0]: r for r in _load_rows(", ".join(["%s"] * len(page)), [pk for pk, _ in page])}
    found = [by_id[pk] + ((dist,) if dist is not None else ()) for pk, dist in page]
    return _rows_page(found, limit, key_of_row, len(wanted) > limit)


def _load_rows(ids_sql: str, params: list) -> list[tuple]:
    """The board's rows (ROW_FIELDS) of the posts whose ids ``ids_sql`` lists or selects."""
    if not ids_sql:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_ROW_SQL.format(ids=ids_sql), params)  # fixed text; ids as a subquery or parameters
        return cursor.fetchall()


def _rows_page(found: list[tuple], limit: int, key_of_row, more: bool | None) -> BoardPage:
    if more is None:
        more = len(found) > limit
    found = found[:limit]
    return BoardPage(
        posts=[], next_cursor=_encode(key_of_row(found[-1])) if more and found else None, rows=found
    )


def _area_scope(area_id: int) -> tuple[int | None, list[int]]:
    """(district id, None) for a district; (None, [the area and its villages]) for a street or village;
    (None, []) for an unknown area (an empty page)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, level FROM accounts_area WHERE id = %s OR parent_id = %s", [area_id, area_id]
            )
            rows = cursor.fetchall()
    else:
        rows = list(Area.objects.filter(Q(pk=area_id) | Q(parent_id=area_id)).values_list("pk", "level"))
    if any(pk == area_id and level == Area.Level.DISTRICT for pk, level in rows):
        return area_id, []
    return None, sorted(pk for pk, _ in rows) if any(pk == area_id for pk, _ in rows) else []


def _merged_ids(where: _Where, column: str, values: list[int], key: str, count: int) -> tuple[str, list]:
    """The page's ids when a filter is a list (two trades, a street and its villages): one keyset seek per
    value on its (status, value, key, id) index, each stopping after ``count`` rows, merged by (key, id).
    A single ``IN`` list cannot be walked in key order by one index, so PostgreSQL would walk the whole
    board's sort index and drop the rows of other values (50,000+ for a rare pair at the bottom of pay).
    ``where`` holds every other condition (PostgreSQL only). (SQL, parameters)."""
    # Fixed names only (column and key are chosen above, ``where`` is fixed or Django's compiled SQL); values
    # are parameters.
    sql = (
        f"SELECT v.id FROM unnest(%s::bigint[]) AS d(value) CROSS JOIN LATERAL ("  # noqa: S608
        f"SELECT jobs_post.id, jobs_post.{key} FROM jobs_post WHERE jobs_post.{column} = d.value AND {where.sql} "
        f"ORDER BY jobs_post.{key} DESC, jobs_post.id DESC LIMIT %s) v ORDER BY v.{key} DESC, v.id DESC LIMIT %s"
    )
    return sql, [list(values), *where.params, count, count]


TOKEN_WINDOW = 4000  # a keyword page reads at most this many of its word's rows before asking the GIN index


def _keyword_rows(where: _Where, tokens: list[str], column: str, after, count: int) -> list[int] | None:
    """A keyword page driven from the word's side (PostgreSQL; migration jobs 0010): the first token's rows
    in ``jobs_post_token``, already in page order under their b-tree, joined to the post for every other
    condition (all the words through the GIN-indexed tsvector, the filters), stopping after ``count``.
    Exact: every matching post has a row for that token. At most TOKEN_WINDOW token rows are read; when the
    filters drop nearly all of them, None hands the page to the plain query (GIN bitmap and sort)."""
    if connection.vendor != "postgresql" or not tokens or column not in ("published_at", "pay_fen"):
        return None
    cond, cond_params = "", []
    if after is not None:
        cond, cond_params = f"AND (t.{column}, t.post_id) < (%s, %s)", list(after)
    # Only fixed names go into the text (column is one of two, ``where`` is fixed or Django's compiled SQL);
    # every value is a parameter.
    window = (
        f"SELECT t.post_id, t.{column} FROM jobs_post_token t WHERE t.token = %s {cond} "  # noqa: S608
        f"ORDER BY t.{column} DESC, t.post_id DESC LIMIT {TOKEN_WINDOW}"
    )
    with connection.cursor() as cursor:
        # One round trip: the page's ids, and -1 − (how many of the word's rows the window held), which tells
        # "the word's rows ran out" (a last page) from "the filters dropped them" (ask the GIN index).
        cursor.execute(
            f"(SELECT w.post_id FROM ({window}) w JOIN jobs_post ON jobs_post.id = w.post_id "  # noqa: S608
            f"WHERE {where.sql} ORDER BY w.{column} DESC, w.post_id DESC LIMIT %s) "
            f"UNION ALL (SELECT -count(*) - 1 FROM ({window}) w)",
            [tokens[0], *cond_params, *where.params, count, tokens[0], *cond_params],
        )
        rows = [row[0] for row in cursor.fetchall()]
    ids, held = [pk for pk in rows if pk > 0], -min(rows) - 1
    if len(ids) == count or held < TOKEN_WINDOW:
        return ids
    return None


def distance_expression(lat: float, lng: float):
    """Local equirectangular distance in degrees of latitude: exact enough at city scale. On PostgreSQL it is
    the ``<->`` of two points (the GiST index jobs_post_geo_knn answers it nearest-first, migration 0005);
    elsewhere the same figure as plain arithmetic."""
    k = geo_scale()
    if connection.vendor == "postgresql":
        # k is a float computed from settings, never user input; the query point goes in as parameters.
        return RawSQL(  # noqa: S611
            f"point(jobs_post.lng * {k!r}, jobs_post.lat) <-> point(%s, %s)",
            (lng * k, lat),
            output_field=FloatField(),
        )
    return Sqrt(
        (F("lat") - Value(lat)) * (F("lat") - Value(lat))
        + (F("lng") - Value(lng)) * (F("lng") - Value(lng)) * Value(k * k),
        output_field=FloatField(),
    )


# --------------------------------------------------------------------------------------- nearest first
#
# A distance from the visitor is not a column, so no b-tree can seek "the posts after distance d". The GiST
# KNN walk (jobs_post_geo_knn) orders by distance but cannot start at d: page n would walk n pages first.
# Instead the city is cut into square cells of GEO_CELL degrees (about 445 m) and an expression index holds
# each open post's cell number (migration jobs 0009). Page n reads only the cells of the ring between the
# cursor's distance d and a radius r, sorts what it finds by (distance, id) and keeps what lies in (d, r];
# when that is less than a page, the ring doubles, up to the farthest open post (four index end points) or
# the visitor's radius. Every post with a distance in (d, r] lies in those cells, so the page is exact,
# ties included. The same code runs on SQLite (no index there: a scan of a small table).

GEO_CELL = 0.004  # degrees of latitude per cell side; longitude is scaled by geo_scale() first
CELL_ROW = 100_000  # cell number = row × CELL_ROW + column (|column| < 40,000 anywhere on Earth)
MAX_CELLS = (
    20_000  # beyond this many cells in one ring (after clipping to the posts' box), one plain sorted query
)
_EPS = 1e-9
WORD_RING = 4 * GEO_CELL  # the first ring of a nearest-first page with a keyword


def geo_cell_sql(table: str = "") -> str:
    """The cell number of a row as SQL: migration jobs 0009 indexes exactly this expression."""
    p = f"{table}." if table else ""
    k = geo_scale()
    return f"(floor({p}lat / {GEO_CELL!r}) * {CELL_ROW} + floor({p}lng * {k!r} / {GEO_CELL!r}))::bigint"


def _cell_expression():
    if connection.vendor == "postgresql":
        return RawSQL(geo_cell_sql("jobs_post"), (), output_field=BigIntegerField())  # noqa: S611
    k = geo_scale()
    return Cast(
        Floor(F("lat") / Value(GEO_CELL)) * Value(CELL_ROW) + Floor(F("lng") * Value(k) / Value(GEO_CELL)),
        BigIntegerField(),
    )


def cell_spans(
    x: float, y: float, inner: float, outer: float, box: tuple[float, float, float, float] | None = None
) -> list[tuple[int, int]] | None:
    """The cells that can hold a point whose distance from (x, y) (scaled longitude, latitude) lies in
    [inner, outer], as runs of consecutive cell numbers (lo, hi): per row of cells, the columns that reach
    the outer circle minus those wholly inside the inner one, so at most two runs a row. ``box`` (x0, y0,
    x1, y1), the box holding every open post, clips them: no run outside it. One index range probe per run
    (``_ring_rows``), so a ring far out in a sparse countryside costs its rows of cells, not its area. None
    when the runs hold more than MAX_CELLS cells."""
    size = GEO_CELL
    spans: list[tuple[int, int]] = []
    cells = 0
    top, bottom = math.floor((y - outer) / size), math.floor((y + outer) / size)
    if box is not None:
        top, bottom = max(top, math.floor(box[1] / size)), min(bottom, math.floor(box[3] / size))
    for row in range(top, bottom + 1):
        y0, y1 = row * size, (row + 1) * size
        dy_near = max(y0 - y, 0.0, y - y1)
        if dy_near > outer + _EPS:
            continue
        half = math.sqrt(max(outer * outer - dy_near * dy_near, 0.0)) + _EPS
        first, last = math.floor((x - half) / size), math.floor((x + half) / size)
        if box is not None:
            first, last = max(first, math.floor(box[0] / size)), min(last, math.floor(box[2] / size))
        runs = [(first, last)]
        dy_far = max(abs(y - y0), abs(y - y1))
        if inner > dy_far:
            # Columns whose every corner is nearer than ``inner`` hold no point of the ring.
            hole = math.sqrt(inner * inner - dy_far * dy_far) - _EPS
            lo, hi = math.ceil((x - hole) / size), math.floor((x + hole) / size) - 1
            if lo <= hi:
                runs = [(first, min(last, lo - 1)), (max(first, hi + 1), last)]
        for a, b in runs:
            if a <= b:
                spans.append((row * CELL_ROW + a, row * CELL_ROW + b))
                cells += b - a + 1
        if cells > MAX_CELLS:
            return None
    return spans


def cell_keys(x: float, y: float, inner: float, outer: float, box=None) -> list[int] | None:
    """The cell numbers of :func:`cell_spans`, one by one."""
    spans = cell_spans(x, y, inner, outer, box)
    return None if spans is None else [key for lo, hi in spans for key in range(lo, hi + 1)]


def _open_box(x: float, y: float) -> tuple[float, tuple[float, float, float, float]] | None:
    """The box holding every open post with a place (scaled longitude, latitude: the min/max of indexed
    columns, four index end points) and the distance from (x, y) to its far corner; None when there is
    none."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(lat), max(lat), min(lng), max(lng) FROM jobs_post "
                "WHERE status = 'open' AND lat IS NOT NULL"
            )
            lat0, lat1, lng0, lng1 = cursor.fetchone()
    else:
        box = Post.objects.filter(status=Post.Status.OPEN, lat__isnull=False).aggregate(
            lat0=Min("lat"), lat1=Max("lat"), lng0=Min("lng"), lng1=Max("lng")
        )
        lat0, lat1, lng0, lng1 = box["lat0"], box["lat1"], box["lng0"], box["lng1"]
    if lat0 is None:
        return None
    k = geo_scale()
    x0, x1, y0, y1 = lng0 * k, lng1 * k, lat0, lat1
    far = math.hypot(max(abs(x0 - x), abs(x1 - x)), max(abs(y0 - y), abs(y1 - y))) + _EPS
    return far, (x0 - _EPS, y0 - _EPS, x1 + _EPS, y1 + _EPS)


def _nearest_rows(
    scope: _Where | QuerySet[Post],
    lat: float,
    lng: float,
    after: tuple | None,
    count: int,
    radius: float | None,
    keyword: Q | None,
    tokens: list[str],
    ring: list[float],
) -> list[tuple[int, float]]:
    """The first ``count`` (id, distance) rows in (distance, id) order after the cursor ``after``, matching
    the words if any. ``ring[0]`` is the ring width to start from (the last page's, from its cursor); it is
    set to the width that filled this page. ``scope`` holds every other condition: SQL on PostgreSQL
    (:class:`_NearSql`, the words by ``tokens``), a QuerySet annotated with ``dist`` elsewhere
    (:class:`_NearOrm`, the words by ``keyword``)."""
    if isinstance(scope, _NearSql):
        near = scope
    elif isinstance(scope, _Where):
        near = _NearSql(scope, lat, lng, after, radius, tokens)
    else:
        near = _NearOrm(scope, after, radius, keyword)
    if near.words and near.few_posts():
        # A word in at most TOKEN_WINDOW posts (or no token table: SQLite): all its posts sorted by distance
        # cost less than widening rings until a page of them is found.
        return near.sorted(count)
    x, y = lng * geo_scale(), lat
    inner = float(after[0]) if after is not None else 0.0
    limit, box = radius, None
    width = ring[0]
    if near.words and after is None:
        # A word's rows are a few percent of the posts: a first ring as wide as a page of all posts would
        # hold a row or two of them. 4× the radius holds 16× the area.
        width = max(width, WORD_RING)
    elif after is None and isinstance(near, _NearSql):
        # Page 1 has no width from a cursor: start from what the posts around here need for a page.
        width = max(width, _first_width(x, y, count))
    while True:
        outer = inner + width
        final = limit is not None and outer >= limit
        if final:
            outer = limit
        spans = cell_spans(x, y, inner, outer, box)
        if spans is None and box is None:
            box = False  # too many cells: clip the ring to the posts' box, then try again
        else:
            if spans is None:
                break
            rows = near.ring(spans, outer, count) if spans else []  # none: inside the cursor
            if len(rows) == count or final:
                ring[0] = width
                return rows
            width *= 4
        if box is None or box is False:
            # Less than a page so far: the rings can stop at the farthest open post, and skip every cell
            # outside the box that holds them all.
            found = _open_box(x, y)
            if found is None:
                return []
            far, box = found
            limit = far if limit is None else min(limit, far)
    return near.sorted(count)


# Page 1's first ring, from how dense the open posts are around the visitor: a coarse count per square of
# DENSITY_CELL degrees, made once a DENSITY_SECONDS per process (one aggregate, an index-only scan of the
# open posts' places: about 30 ms for 100k posts, once a minute, by whichever request comes). In a
# village a one-cell ring found a post or two, and the page took a second and third ring, each a statement
# of its own with its planning (1.75 ring statements a nearest page in the bench's varied mix). The width
# only decides what a ring costs, never what a page holds (rings are exact at any width): a stale count
# costs time, nothing else.
DENSITY_CELL = 16 * GEO_CELL
DENSITY_SECONDS = 60
_density: dict[str, Any] = {"until": 0.0, "cells": {}}


def _density_cells() -> dict[tuple[int, int], int]:
    now = time.monotonic()
    if now < _density["until"]:
        return _density["cells"]
    k = geo_scale()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT floor(lat / %s)::int, floor(lng * %s / %s)::int, count(*) FROM jobs_post "
            "WHERE status = 'open' AND lat IS NOT NULL GROUP BY 1, 2",
            [DENSITY_CELL, k, DENSITY_CELL],
        )
        cells = {(row, col): n for row, col, n in cursor.fetchall()}
    _density.update(until=now + DENSITY_SECONDS, cells=cells)
    return cells


def _first_width(x: float, y: float, count: int) -> float:
    """A ring width whose disc around (x, y) (scaled longitude, latitude) should hold about twice ``count``
    open posts, from the coarse counts of the 3 × 3 squares around it; GEO_CELL where posts are dense, at
    most 16 × GEO_CELL (the rings widen from there as before)."""
    cells = _density_cells()
    row, col = math.floor(y / DENSITY_CELL), math.floor(x / DENSITY_CELL)
    posts = sum(cells.get((row + i, col + j), 0) for i in (-1, 0, 1) for j in (-1, 0, 1))
    if posts == 0:
        return 16 * GEO_CELL
    per_area = posts / (9 * DENSITY_CELL * DENSITY_CELL)
    return min(max(math.sqrt(2 * count / (math.pi * per_area)), GEO_CELL), 16 * GEO_CELL)


class _NearSql:
    """Nearest-first reads on PostgreSQL. Without words, a ring is one index range probe per run of cells
    on jobs_post (a LATERAL join over the runs, kept apart by OFFSET 0; jobs_post_geo_cell carries id,
    place, start and trade, so an index-only scan): given a list, the planner guesses every cell as full as
    the busiest and would rather scan the table. With words, the same probes go to the first word's rows in
    jobs_post_token by their cell (``jobs_post_token_cell``: token, cell, with post id and place, migration
    jobs 0015), so a ring reads that word's posts only and joins the post for the rest; a word in few posts
    has all its rows sorted by distance from the same index."""

    def __init__(
        self,
        where: _Where,
        lat: float,
        lng: float,
        after,
        radius: float | None,
        tokens: list[str],
        *,
        rows: bool = False,
    ):
        self.rows = rows  # answer ROW_FIELDS + distance rather than (id, distance): no second round trip
        self.point = [lng * geo_scale(), lat]
        where = where.copy()
        dist = _distance_sql()
        # A ring's probes (no words) leave the cursor and the radius to the outer query, on the distance
        # they computed: computed once a row instead of twice (a deep ring reads thousands of index rows).
        self.probe_where = where.copy()
        if after is not None:
            where.add(f"({dist}, jobs_post.id) > (%s, %s)", *self.point, *after)
        if radius is not None:
            where.add(f"{dist} <= %s", *self.point, radius)
        self.where, self.after, self.radius = where, after, radius
        self.words = tokens
        if tokens:
            self.where.add(f"jobs_post.{STORED_VECTOR} @@ to_tsquery('simple', %s)", to_tsquery(tokens))

    def few_posts(self) -> bool:
        return not _common_token(self.words[0])

    def _fetch(self, sql: str, params: list) -> list[tuple]:
        if self.rows:
            sql = _NEAR_ROWS_SQL.format(near=sql)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]

    def ring(self, spans: list[tuple[int, int]], outer: float, count: int) -> list[tuple[int, float]]:
        lows, highs = [lo for lo, _ in spans], [hi for _, hi in spans]
        # Fixed SQL only (the conditions, the cell and distance expressions); values are parameters.
        if not self.words:
            cell = geo_cell_sql("jobs_post")
            # The cursor and the radius on the distance computed once (the rings stop at the radius: it
            # is never less than ``outer``).
            after = " AND (p.dist, p.id) > (%s, %s)" if self.after is not None else ""
            sql = (
                f"SELECT p.id, p.dist FROM unnest(%s::bigint[], %s::bigint[]) AS c(lo, hi) CROSS JOIN LATERAL ("  # noqa: S608
                f"SELECT jobs_post.id, {_distance_sql()} AS dist FROM jobs_post "
                f"WHERE {cell} >= c.lo AND {cell} <= c.hi AND {self.probe_where.sql} OFFSET 0) p "
                f"WHERE p.dist <= %s{after} ORDER BY p.dist, p.id LIMIT %s"
            )
            params = [lows, highs, *self.point, *self.probe_where.params, outer]
            return self._fetch(sql, [*params, *(self.after or ()), count])
        cell = geo_cell_sql("t")
        sql = (
            f"SELECT w.post_id AS id, w.dist FROM unnest(%s::bigint[], %s::bigint[]) AS c(lo, hi) CROSS JOIN LATERAL ("  # noqa: S608
            f"SELECT t.post_id, {_distance_sql('t')} AS dist FROM jobs_post_token t WHERE t.token = %s "
            f"AND t.lat IS NOT NULL AND {cell} >= c.lo AND {cell} <= c.hi OFFSET 0) w "
            f"JOIN jobs_post ON jobs_post.id = w.post_id "
            f"WHERE w.dist <= %s AND {self.where.sql} ORDER BY w.dist, w.post_id LIMIT %s"
        )
        return self._fetch(sql, [lows, highs, *self.point, self.words[0], outer, *self.where.params, count])

    def sorted(self, count: int) -> list[tuple[int, float]]:
        """The first ``count`` rows by distance without rings: every post of a rare word, or (past MAX_CELLS
        cells) the plain sorted query."""
        if not self.words or not self.few_posts():
            sql = (
                f"SELECT jobs_post.id, {_distance_sql()} AS dist FROM jobs_post "  # noqa: S608
                f"WHERE {self.where.sql} ORDER BY 2, 1 LIMIT %s"
            )
            return self._fetch(sql, [*self.point, *self.where.params, count])
        # The word's rows sorted by distance first (an index-only scan of jobs_post_token_cell and a sort of
        # at most about TOKEN_WINDOW rows), then joined to the post in that order until a page is found.
        dist = _distance_sql("t")
        cond, params = [], []
        if self.after is not None:
            cond.append(f"({dist}, t.post_id) > (%s, %s)")
            params += [*self.point, *self.after]
        if self.radius is not None:
            cond.append(f"{dist} <= %s")
            params += [*self.point, self.radius]
        if len(self.words) == 1:
            # One word: every post of its rows matches it, so the posts are probed by key in distance order
            # (LATERAL … OFFSET 0) and the page ends after ``count`` probes or so.
            post = (
                "CROSS JOIN LATERAL (SELECT 1 FROM jobs_post WHERE jobs_post.id = w.post_id "  # noqa: S608
                f"AND {self.where.sql} OFFSET 0) j"
            )
            where = ""
        else:
            # Several words (叉车 & 车工): few of the first word's posts may hold them all; the planner joins
            # with the GIN index's matches.
            post, where = "JOIN jobs_post ON jobs_post.id = w.post_id", f"WHERE {self.where.sql}"
        sql = (
            f"SELECT w.post_id AS id, w.dist FROM (SELECT t.post_id, {dist} AS dist FROM jobs_post_token t "  # noqa: S608
            f"WHERE t.token = %s AND t.lat IS NOT NULL {''.join(' AND ' + c for c in cond)} "
            f"ORDER BY 2, 1 OFFSET 0) w {post} {where} ORDER BY w.dist, w.post_id LIMIT %s"
        )
        return self._fetch(sql, [*self.point, self.words[0], *params, *self.where.params, count])


class _NearOrm:
    """Nearest-first reads through the ORM (SQLite: no cell index, a scan of a small table)."""

    def __init__(self, qs: QuerySet[Post], after, radius: float | None, keyword: Q | None):
        if after is not None:
            qs = qs.filter(TupleGreaterThan(Tuple(F("dist"), F("id")), after))
        qs = qs.order_by("dist", "id")
        if radius is not None:
            qs = qs.filter(dist__lte=radius)
        if keyword is not None:
            qs = qs.filter(keyword)
        self.qs, self.words = qs, keyword is not None

    def few_posts(self) -> bool:
        return True  # no token table: a word's posts sorted by distance

    def ring(self, spans: list[tuple[int, int]], outer: float, count: int) -> list[tuple[int, float]]:
        keys = [key for lo, hi in spans for key in range(lo, hi + 1)]
        ring = self.qs.alias(cell=_cell_expression()).filter(cell__in=keys, dist__lte=outer)
        return list(ring.values_list("pk", "dist")[:count])

    def sorted(self, count: int) -> list[tuple[int, float]]:
        return list(self.qs.values_list("pk", "dist")[:count])


COMMON_TOKEN_SECONDS = 60  # how long a process trusts what it counted of a word's posts
_common_tokens: dict[str, tuple[float, bool]] = {}


def _common_token(token: str) -> bool:
    """Whether at least TOKEN_WINDOW open posts hold the word (it then reads by rings), counted once a
    minute per process: the answer only picks the cheaper of two exact ways, so a stale one costs time,
    never a wrong page."""
    now = time.monotonic()
    known = _common_tokens.get(token)
    if known is not None and known[0] > now:
        return known[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM jobs_post_token WHERE token = %s LIMIT %s) t",
            [token, TOKEN_WINDOW],
        )
        common = cursor.fetchone()[0] >= TOKEN_WINDOW
    if len(_common_tokens) > 4096:
        _common_tokens.clear()
    _common_tokens[token] = (now + COMMON_TOKEN_SECONDS, common)
    return common


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


# The post with what its pages and a 抢单 read: compiled once, run prepared (core/prepared.py). A 抢单 read
# it for every winner; planning the six-table join cost PostgreSQL more than running it.
_POST_WITH_RELATED = prepared.Loader(
    lambda pk: Post.objects.select_related("trade__certificate_type", "employer", "area", "district").filter(
        pk=pk
    ),
    pk=-7_316_043_211,
)


def post_visible(*, pk: int, user: User | None) -> Post:
    """A post anyone may see once published; drafts only for the employer's members (else 404)."""
    found = _POST_WITH_RELATED.all(pk=pk) if -(2**63) <= pk < 2**63 else []  # (the ORM's: none past bigint)
    if not found:
        raise Post.DoesNotExist("Post matching query does not exist.")
    post = found[0]
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
