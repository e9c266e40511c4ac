"""The public board's keyset pages at their boundaries (equal keys, ties on pay and distance, the last page)
under every sort and the list filters that merge one index seek per value (two trades, a street with its
villages), the API's raw rows rendering exactly as board_item does, and what one page costs in queries."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import Post
from jobs.selectors import BoardQuery, board, geo_scale
from jobs.serializers import board_item, board_rows
from tests.factories import AreaFactory, PostFactory, TradeFactory

pytestmark = pytest.mark.django_db

BOARD = reverse("api:post-list")
HERE = {"lat": 28.95, "lng": 120.05}


@pytest.fixture
def town(employer):
    """A district with two streets, one holding two villages; three trades; 31 posts with ties in every
    key (four publication instants, three pay levels, six posts at one address)."""
    district = AreaFactory(name="青溪区", code="350186000000", level="district")
    west = AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)
    east = AreaFactory(name="东城街道", code="350186002000", level="street", parent=district)
    upper = AreaFactory(name="上村", code="350186001001", level="village", parent=west)
    lower = AreaFactory(name="下村", code="350186001002", level="village", parent=west)
    trades = [TradeFactory(name="瓦工"), TradeFactory(name="保洁"), TradeFactory(name="厨师")]
    rng = random.Random(16)
    now = timezone.now()
    moments = [now - dt.timedelta(minutes=m) for m in (1, 1, 1, 7)]
    places = [west, east, upper, lower]
    for i in range(31):
        same_address = i % 5 == 0
        PostFactory(
            employer=employer, trade=trades[i % 3], area=places[i % 4], district=district,
            title=f"招保洁{i}" if i % 2 else f"招瓦工{i}", pay_fen=rng.choice((15000, 20000, 20000)),
            pay_unit="hour" if i % 7 == 0 else "day", published_at=rng.choice(moments),
            lat=28.95 if same_address else 28.95 + rng.uniform(-0.02, 0.02),
            lng=120.05 if same_address else 120.05 + rng.uniform(-0.02, 0.02),
        )  # fmt: skip
    return {"district": district, "west": west, "villages": [upper, lower], "trades": trades}


def _key(sort: str):
    if sort == "newest":
        return lambda row: (-dt.datetime.fromisoformat(row["published_at"]).timestamp(), -row["id"])
    if sort == "pay":
        return lambda row: (-row["pay_fen"], -row["id"])
    k = geo_scale()  # distance_km is rounded: the order is checked on the exact figure, as the query has it
    return lambda row: (math.hypot((row["lng"] - HERE["lng"]) * k, row["lat"] - HERE["lat"]), row["id"])


def _walk(params: dict, limit: int) -> list[list[dict]]:
    client, pages, cursor = APIClient(), [], None
    for _ in range(100):
        answer = client.get(BOARD, {**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.content
        body = answer.json()
        pages.append(body["results"])
        cursor = body["next_cursor"]
        if not cursor:
            return pages
    raise AssertionError("the pages never ended")


def _expected(town, params: dict) -> set[int]:
    posts = Post.objects.filter(status="open")
    if "trade" in params:
        posts = posts.filter(trade_id__in=params["trade"])
    if params.get("area") == town["district"].pk:
        posts = posts.filter(district=town["district"])
    elif params.get("area") == town["west"].pk:
        posts = posts.filter(area__in=[town["west"], *town["villages"]])
    if "pay_unit" in params:
        posts = posts.filter(pay_unit=params["pay_unit"])
    return set(posts.values_list("pk", flat=True))


FILTERS = [
    {},
    {"two_trades": True},
    {"area": "west"},
    {"area": "district"},
    {"two_trades": True, "area": "west", "pay_unit": "day"},
]


def _params(town, spec: dict, sort: str) -> dict:
    params: dict = {"sort": sort}
    if spec.get("two_trades"):
        params["trade"] = [town["trades"][0].pk, town["trades"][1].pk]
    if "area" in spec:
        params["area"] = town[spec["area"]].pk
    if "pay_unit" in spec:
        params["pay_unit"] = spec["pay_unit"]
    if sort == "nearest":
        params.update(HERE)
    return params


@pytest.mark.parametrize("sort", ["newest", "pay", "nearest"])
@pytest.mark.parametrize("spec", FILTERS)
@pytest.mark.parametrize("limit", [1, 4, 7])
def test_keyset_pages_hold_every_row_once_in_order_to_an_exact_last_page(town, sort, spec, limit):
    params = _params(town, spec, sort)
    pages = _walk(params, limit)
    rows = [row for page in pages for row in page]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) and set(ids) == _expected(town, params)
    assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
    assert [_key(sort)(r) for r in rows] == sorted(_key(sort)(r) for r in rows)
    one_page = APIClient().get(BOARD, {**params, "limit": 50}).json()
    assert one_page["next_cursor"] is None and [r["id"] for r in one_page["results"]] == ids


def test_a_board_that_ends_on_a_full_page_has_no_cursor_on_it(town):
    total = Post.objects.filter(status="open").count()  # 31: a last page of exactly 31 rows
    body = APIClient().get(BOARD, {"limit": total}).json()
    assert len(body["results"]) == total and body["next_cursor"] is None
    first = APIClient().get(BOARD, {"limit": total - 1}).json()
    last = APIClient().get(BOARD, {"limit": total - 1, "cursor": first["next_cursor"]}).json()
    assert len(last["results"]) == 1 and last["next_cursor"] is None


@pytest.mark.parametrize("sort", ["newest", "pay", "nearest"])
@pytest.mark.parametrize("spec", [*FILTERS, {"q": "保洁"}])
def test_the_apis_raw_rows_render_as_board_item_does(town, sort, spec):
    params = _params(town, spec, sort)
    query = BoardQuery(
        sort=sort, limit=5, q=spec.get("q", ""), trade_ids=params.get("trade", []), area_id=params.get("area"),
        pay_unit=params.get("pay_unit", ""), lat=params.get("lat"), lng=params.get("lng"),
    )  # fmt: skip
    now = timezone.now()
    for _ in range(3):  # three pages: cursors agree too
        rows, posts = board(query, now=now, rows=True), board(query, now=now)
        assert rows.rows is not None and rows.posts == []
        assert board_rows(rows.rows) == [board_item(p) for p in posts.posts]
        assert rows.next_cursor == posts.next_cursor
        if not rows.next_cursor:
            break
        query.cursor = rows.next_cursor


@pytest.mark.parametrize(
    ("spec", "sort", "queries"),
    [
        ({}, "newest", 1),  # the page's ids as a subquery of the statement that loads its rows
        ({}, "pay", 1),
        ({"two_trades": True}, "pay", 1),  # one seek per trade, merged, in the same statement
        ({"area": "west"}, "newest", 2),  # the area's kind (a street: itself and its villages), the page
        ({"area": "district"}, "pay", 2),
    ],
)
def test_one_board_page_is_a_fixed_number_of_queries(town, spec, sort, queries, django_assert_num_queries):
    params = _params(town, spec, sort)
    client = APIClient()
    first = client.get(BOARD, {**params, "limit": 4}).json()
    with django_assert_num_queries(queries):
        deep = client.get(BOARD, {**params, "limit": 4, "cursor": first["next_cursor"]})
    assert deep.status_code == 200 and len(deep.json()["results"]) == 4


@pytest.mark.postgres
def test_a_keyword_page_is_two_queries_under_each_sort(town, django_assert_num_queries):
    client = APIClient()
    for sort in ("newest", "pay"):
        with django_assert_num_queries(2):  # the word's rows in page order (jobs_post_token), the page's rows
            assert client.get(BOARD, {"q": "保洁", "sort": sort, "limit": 4}).status_code == 200


def test_a_nearest_page_is_at_most_four_queries_from_anywhere(town, django_assert_max_num_queries):
    # A ring, the posts' box when the ring held less than a page, a wider ring, the page's rows.
    client = APIClient()
    for lat, lng in [(28.95, 120.05), (28.80, 119.90), (30.0, 121.0)]:
        with django_assert_max_num_queries(4):
            body = client.get(BOARD, {"sort": "nearest", "lat": lat, "lng": lng, "limit": 4}).json()
        assert len(body["results"]) == 4
