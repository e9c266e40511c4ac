import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import DomainError
from jobs.models import Post
from jobs.search import index_tokens, query_tokens
from jobs.selectors import BoardQuery, board, contact_phone_for
from tests.factories import AreaFactory, PostFactory, TradeFactory

pytestmark = pytest.mark.django_db


def test_tokens():
    assert query_tokens("焊") == ["焊"]
    assert query_tokens("保洁") == ["保洁"]
    assert query_tokens("开荒保洁") == ["开荒", "荒保", "保洁"]
    tokens = index_tokens("招电焊工3名").split()
    assert {"焊", "电焊", "焊工", "3"} <= set(tokens)


@pytest.fixture
def city(employer):
    district = AreaFactory(name="青溪区", code="350186000000", level="district")
    west = AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)
    east = AreaFactory(name="东城街道", code="350186002000", level="street", parent=district)
    cleaning = TradeFactory(name="保洁", category="housekeeping", risk_class=2)
    welding = TradeFactory(name="电焊工", category="construction", risk_class=5)
    brick = TradeFactory(name="瓦工", category="construction", risk_class=4)
    now = timezone.now()
    posts = {
        "clean": PostFactory(employer=employer, trade=cleaning, area=west, district=district, title="小区开荒保洁",
                             pay_fen=18000, lat=28.90, lng=120.03, published_at=now - dt.timedelta(hours=3)),
        "weld": PostFactory(employer=employer, trade=welding, area=east, district=district, title="钢结构电焊",
                            pay_fen=40000, lat=28.95, lng=120.10, published_at=now - dt.timedelta(hours=2)),
        "brick": PostFactory(employer=employer, trade=brick, area=east, district=district, title="砌墙瓦工",
                             pay_fen=35000, pay_unit="day", lat=28.80, lng=119.90,
                             published_at=now - dt.timedelta(hours=1)),
        "hourly": PostFactory(employer=employer, trade=cleaning, area=west, district=district, title="家庭保洁钟点工",
                              pay_fen=3500, pay_unit="hour", lat=None, lng=None, published_at=now),
    }  # fmt: skip
    return {"west": west, "east": east, "district": district, "cleaning": cleaning, "posts": posts}


def titles(page):
    return [p.title for p in page.posts]


@pytest.mark.parametrize(
    ("q", "expected"),
    [("保洁", {"小区开荒保洁", "家庭保洁钟点工"}), ("焊", {"钢结构电焊"}), ("瓦工", {"砌墙瓦工"}),
     ("开荒保洁", {"小区开荒保洁"}), ("钟点", {"家庭保洁钟点工"}), ("木工", set())],
)  # fmt: skip
def test_keyword_search_for_short_chinese_words(city, q, expected):
    assert set(titles(board(BoardQuery(q=q)))) == expected


def test_filters(city):
    assert set(titles(board(BoardQuery(area_id=city["east"].pk)))) == {"钢结构电焊", "砌墙瓦工"}
    assert len(board(BoardQuery(area_id=city["district"].pk)).posts) == 4
    assert titles(board(BoardQuery(pay_unit="hour"))) == ["家庭保洁钟点工"]
    assert set(titles(board(BoardQuery(pay_min_fen=35000)))) == {"钢结构电焊", "砌墙瓦工"}
    assert set(titles(board(BoardQuery(trade_ids=[city["cleaning"].pk])))) == {
        "小区开荒保洁",
        "家庭保洁钟点工",
    }
    tomorrow = timezone.localdate() + dt.timedelta(days=2)
    assert len(board(BoardQuery(date=tomorrow)).posts) == 4
    assert board(BoardQuery(date=tomorrow + dt.timedelta(days=1))).posts == []


def test_sorts_and_distance(city):
    assert titles(board(BoardQuery(sort="pay")))[:2] == ["钢结构电焊", "砌墙瓦工"]
    assert titles(board(BoardQuery(sort="newest")))[0] == "家庭保洁钟点工"
    near = board(BoardQuery(sort="nearest", lat=28.90, lng=120.03))
    assert titles(near) == ["小区开荒保洁", "钢结构电焊", "砌墙瓦工"]  # posts without a place are left out
    assert near.posts[0].distance_km == 0.0 and 8 < near.posts[1].distance_km < 10
    assert titles(board(BoardQuery(lat=28.90, lng=120.03, radius_km=5))) == ["小区开荒保洁"]
    with pytest.raises(DomainError):
        board(BoardQuery(sort="nearest"))
    with pytest.raises(DomainError):
        board(BoardQuery(sort="random"))


@pytest.mark.parametrize("sort", ["newest", "pay", "nearest"])
def test_keyset_pagination_walks_everything_once(employer, sort):
    for i in range(23):
        PostFactory(employer=employer, pay_fen=10000 + (i % 5) * 100, lat=28.9 + (i % 4) * 0.01, lng=120.0)
    seen, cursor = [], ""
    while True:
        page = board(BoardQuery(sort=sort, lat=28.9, lng=120.0, cursor=cursor, limit=5))
        seen += [p.pk for p in page.posts]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 23


def test_bad_cursor_is_a_clear_error():
    with pytest.raises(DomainError) as info:
        board(BoardQuery(cursor="not-a-cursor"))
    assert info.value.field == "cursor"


def test_three_queries_per_page_with_a_keyword_and_an_area(city, django_assert_num_queries):
    # The area's kind (district, or street with its villages), the keyword's page, its rows.
    with django_assert_num_queries(3):
        page = board(BoardQuery(q="保洁", area_id=city["district"].pk, sort="pay", lat=28.9, lng=120.0))
        for post in page.posts:
            _ = (post.trade.name, post.employer.name, post.area.name, post.district.name)


def test_stale_and_unpublished_posts_hidden(employer):
    PostFactory(employer=employer, title="草稿岗位", status="draft")
    PostFactory(employer=employer, title="招满岗位", status="filled")
    PostFactory(employer=employer, title="过时岗位", starts_at=timezone.now() - dt.timedelta(hours=1),
                ends_at=timezone.now() + dt.timedelta(hours=1))  # fmt: skip
    assert board(BoardQuery()).posts == []


def test_contact_phone_masked_until_confirmed_order(post, worker, worker2, boss):
    from jobs import services

    assert contact_phone_for(post=post, user=None) == "137****1111"
    assert contact_phone_for(post=post, user=worker) == "137****1111"
    assert contact_phone_for(post=post, user=boss) == "13700001111"
    services.claim_create(post=post, worker=worker)
    assert contact_phone_for(post=post, user=worker) == "13700001111"
    assert contact_phone_for(post=post, user=worker2) == "137****1111"


@pytest.mark.postgres
def test_keyword_search_uses_the_gin_index(city):
    from jobs.models import Post
    from jobs.search import keyword_filter

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        sql, params = Post.objects.filter(keyword_filter("保洁")).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "jobs_post_search_vector_gin" in plan


def test_absurd_date_is_a_clear_error():
    with pytest.raises(DomainError) as info:
        board(BoardQuery(date=dt.date(9999, 12, 31)))
    assert info.value.field == "date"


@pytest.mark.postgres
def test_nearest_first_pages_seek_the_grid_cell_index(city):
    """The board's cell expression is exactly the indexed one, so PostgreSQL can read a distance ring
    through jobs_post_geo_cell (bench/jobs_board.py prints the real plan on 100k posts)."""
    from django.test.utils import CaptureQueriesContext

    from jobs import selectors

    with CaptureQueriesContext(connection) as ctx:
        board(BoardQuery(sort="nearest", lat=28.9, lng=120.0))
    ring = ctx.captured_queries[0]["sql"]
    assert selectors.geo_cell_sql("jobs_post") in ring
    with connection.cursor() as cursor:
        # A few rows here: the planner would take any index or none. Within this test's transaction (rolled
        # back), only the primary key and the cells' index are left, and scans of the table are off.
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'jobs_post' "
            "AND indexname NOT IN ('jobs_post_pkey', 'jobs_post_geo_cell')"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + ring)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "jobs_post_geo_cell" in plan, plan


def test_nearest_pages_stop_at_the_radius(employer, trade):
    # One post every ~1.1 km going north: a radius of 5 km holds the first five (0–4.4 km).
    for i in range(9):
        PostFactory(employer=employer, trade=trade, title=f"第{i}个", lat=28.90 + i * 0.01, lng=120.0)

    first = board(BoardQuery(sort="nearest", lat=28.90, lng=120.0, radius_km=5, limit=3))
    assert titles(first) == ["第0个", "第1个", "第2个"] and first.next_cursor
    second = board(
        BoardQuery(sort="nearest", lat=28.90, lng=120.0, radius_km=5, limit=3, cursor=first.next_cursor)
    )
    assert titles(second) == ["第3个", "第4个"]
    assert second.next_cursor is None  # the sixth post is 5.6 km away: the end, not another page
    exact = board(BoardQuery(sort="nearest", lat=28.90, lng=120.0, radius_km=5, limit=5))
    assert len(exact.posts) == 5 and exact.next_cursor is None


@pytest.mark.parametrize("max_cells", [3000, 0])
def test_nearest_pages_keep_posts_at_one_address_in_order(employer, trade, monkeypatch, max_cells):
    """Seven posts at one address and two nearer: every page continues where the last stopped, whether
    the page comes from the grid's rings or from the plain sort (no cells allowed)."""
    from jobs import selectors

    monkeypatch.setattr(selectors, "MAX_CELLS", max_cells)
    PostFactory(employer=employer, trade=trade, title="近1", lat=28.900, lng=120.0)
    PostFactory(employer=employer, trade=trade, title="近2", lat=28.901, lng=120.0)
    same = [
        PostFactory(employer=employer, trade=trade, title=f"同址{i}", lat=28.95, lng=120.0) for i in range(7)
    ]
    seen, cursor = [], ""
    for _ in range(10):
        page = board(BoardQuery(sort="nearest", lat=28.90, lng=120.0, limit=2, cursor=cursor))
        seen += [p.pk for p in page.posts]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen[:2] == [p.pk for p in Post.objects.filter(title__startswith="近").order_by("lat")]
    assert seen[2:] == sorted(p.pk for p in same)


def _walk(query: BoardQuery) -> list:
    posts, cursor = [], ""
    for _ in range(200):
        page = board(BoardQuery(**{**query.__dict__, "cursor": cursor}))
        posts += page.posts
        cursor = page.next_cursor
        if not cursor:
            return posts
    raise AssertionError("the pages never ended")


@pytest.fixture
def spread(employer, trade):
    """Posts with ties in every sort key: one published instant for many, few pay levels, an address shared
    by six, a cluster, a grid over ~30 km, three far away (100+ km) and two without a place."""
    import random

    rng = random.Random(16)
    now = timezone.now()
    moments = [now - dt.timedelta(minutes=m) for m in (1, 1, 1, 5, 9)]
    places = [(28.95, 120.05)] * 6
    places += [(28.95 + rng.uniform(-0.003, 0.003), 120.05 + rng.uniform(-0.003, 0.003)) for _ in range(12)]
    places += [(28.8 + rng.uniform(0, 0.3), 119.9 + rng.uniform(0, 0.3)) for _ in range(14)]
    places += [(30.1, 121.3), (27.5, 118.9), (28.95, 121.2)]
    places += [(None, None)] * 2
    for i, (lat, lng) in enumerate(places):
        PostFactory(
            employer=employer, trade=trade, title=f"散{i}", lat=lat, lng=lng,
            pay_fen=rng.choice((15000, 20000, 20000, 30000)), published_at=rng.choice(moments),
        )  # fmt: skip
    return Post.objects.filter(title__startswith="散")


@pytest.mark.parametrize(("cell", "max_cells"), [(0.004, 3000), (0.05, 3000), (0.0005, 30), (0.004, 0)])
@pytest.mark.parametrize("limit", [1, 4, 7])
def test_keyset_pages_return_every_row_once_in_order_for_every_sort(
    spread, monkeypatch, cell, max_cells, limit
):
    """Every sort, ties included, through small and odd pages: each row exactly once, in the order of one
    page holding them all. Nearest runs with big and tiny grid cells, and with the plain sort."""
    from jobs import selectors

    monkeypatch.setattr(selectors, "GEO_CELL", cell)
    monkeypatch.setattr(selectors, "MAX_CELLS", max_cells)
    every = set(spread.values_list("pk", flat=True))
    placed = set(spread.exclude(lat=None).values_list("pk", flat=True))
    for sort, expected, key in [
        ("newest", every, lambda p: (-p.published_at.timestamp(), -p.pk)),
        ("pay", every, lambda p: (-p.pay_fen, -p.pk)),
        ("nearest", placed, lambda p: (p.dist, p.pk)),
    ]:
        place = {"lat": 28.95, "lng": 120.05} if sort == "nearest" else {}
        walked = _walk(BoardQuery(sort=sort, limit=limit, **place))
        ids = [p.pk for p in walked]
        assert len(ids) == len(set(ids)) and set(ids) == expected, sort
        assert [key(p) for p in walked] == sorted(key(p) for p in walked), sort
        if sort == "nearest":
            one_page = board(BoardQuery(sort=sort, lat=28.95, lng=120.05, limit=50))
            assert ids == [p.pk for p in one_page.posts]
            inside = [
                p.pk for p in _walk(BoardQuery(sort=sort, lat=28.95, lng=120.05, radius_km=12, limit=limit))
            ]
            assert inside == [
                p.pk for p in one_page.posts if p.distance_km is not None and p.dist * 111.195 <= 12
            ]


def test_cell_keys_cover_the_ring_and_skip_the_hole():
    """Brute force over a grid of points: every point whose distance lies in [inner, outer] falls in a
    range; cells wholly inside the inner circle are left out."""
    import math

    from jobs import selectors

    x, y, size = 105.123, 28.95, selectors.GEO_CELL
    for inner, outer in [(0.0, 0.004), (0.01, 0.02), (0.0231, 0.0232), (0.05, 0.11)]:
        keys = set(selectors.cell_keys(x, y, inner, outer))
        for i in range(-60, 61):
            for j in range(-60, 61):
                px, py = x + i * 0.00191, y + j * 0.00187
                d = math.hypot(px - x, py - y)
                key = math.floor(py / size) * selectors.CELL_ROW + math.floor(px / size)
                if inner <= d <= outer:
                    assert key in keys, (inner, outer, i, j)
        if inner > 0.02:  # the hole is skipped: fewer cells than the whole disc
            assert len(keys) < len(selectors.cell_keys(x, y, 0.0, outer))


def test_nearest_cursor_ring_hint_is_checked_and_bounded(employer, trade, django_assert_max_num_queries):
    """The third number of a nearest-first cursor (the ring width that filled the last page) is only a
    hint: wrong types are refused, other sorts take none, and a tiny hand-made one costs no more queries."""
    import base64
    import json

    def cursor(values):
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    for i in range(5):
        PostFactory(employer=employer, trade=trade, lat=28.90 + i * 0.01, lng=120.0)
    for bad, sort in [([0.0, 1, "x"], "nearest"), ([0.0, 1, -1], "nearest"), ([20000, 1, 0.004], "pay")]:
        with pytest.raises(DomainError):
            board(BoardQuery(sort=sort, lat=28.9, lng=120.0, cursor=cursor(bad)))
    with django_assert_max_num_queries(6):
        page = board(
            BoardQuery(sort="nearest", lat=28.9, lng=120.0, limit=2, cursor=cursor([0.0, 0, 1e-300]))
        )
    assert len(page.posts) == 2
