"""The board's lean path answers what the DRF view and the QuerySet path answer: the plain-query parser
against BoardParamsSerializer over many queries, the SQL-text rows against the model instances over many
random filters, sorts, words and cursors (both ways a word is read nearest-first), the lean response
against the DRF view's bytes, and the token table following a post that moves."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random

import pytest
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jobs import api, selectors
from jobs.models import Post
from jobs.selectors import BoardQuery, board
from jobs.serializers import BoardParamsSerializer, board_item, board_params_fast, board_rows
from tests.factories import PostFactory
from tests.jobs.test_board_keyset import HERE, town  # noqa: F401  (the 31-post town fixture)

BOARD = reverse("api:post-list")

VALUES = {
    "q": ["", "保洁", "  瓦工 ", "a\x00b", "保" * 50, "保" * 51, "招 保洁"],
    "trade": ["3", "1,2", "0", "-1", "abc", "1.0", "07", ",", "", "1," * 21],
    "area": ["5", "", "0", "东城", "1.0", "99"],
    "pay_unit": ["day", "hour", "week", ""],
    "pay_min": ["0", "100", "100000000", "100000001", "-1", "12.5元", ""],
    "date": ["2030-01-02", "2026-13-01", "9999-12-31", "0001-01-01", "20300102", "2030-1-2", ""],
    "lat": ["28.95", "91", "-90", "north", "nan", "28.950000", ""],
    "lng": ["120.05", "181", "inf", "-180", "120", ""],
    "radius_km": ["5", "0.1", "0.05", "200", "201", ""],
    "sort": ["newest", "pay", "nearest", "random", ""],
    "cursor": ["", "abc", " abc", "a" * 401, "eyJhIjoxfQ"],
    "limit": ["1", "50", "0", "51", "ten", "07", ""],
}


def _serializer(query: QueryDict) -> dict | None:
    serializer = BoardParamsSerializer(data=query)
    return dict(serializer.validated_data) if serializer.is_valid() else None


def test_the_plain_query_parser_agrees_with_the_serializer_or_leaves_the_query_to_it():
    rng = random.Random(16)
    queries = [
        QueryDict(""),
        QueryDict("trade=1&trade=2,3"),
        QueryDict("q=a&q=b"),
        QueryDict("sort=pay&sort=x"),
    ]
    for name, values in VALUES.items():  # every value alone, and with a position where it needs one
        for value in values:
            queries.append(QueryDict(mutable=True))
            queries[-1][name] = value
            queries.append(QueryDict("lat=28.9&lng=120.0", mutable=True))
            queries[-1][name] = value
    for _ in range(3000):
        query = QueryDict(mutable=True)
        for name in rng.sample(sorted(VALUES), rng.randrange(0, 6)):
            query.setlist(name, [rng.choice(VALUES[name]) for _ in range(rng.choice((1, 1, 1, 2)))])
        queries.append(query)
    taken = 0
    for query in queries:
        fast = board_params_fast(query)
        if fast is not None:  # None: the serializer decides (the view's path)
            taken += 1
            assert fast == _serializer(query), query
    assert taken > 500


def test_plain_queries_phones_send_take_the_lean_path():
    for text in [
        "sort=nearest&lat=28.951234&lng=120.051&radius_km=5&trade=3&trade=4",
        "q=%E4%BF%9D%E6%B4%81&sort=pay&cursor=WzIwMDAwLDEyXQ&limit=20",
        "area=12&pay_unit=day&pay_min=15000&date=2030-01-02",
    ]:
        query = QueryDict(text)
        assert board_params_fast(query) == _serializer(query) is not None


def _random_query(spot, rng: random.Random) -> BoardQuery:
    trades = [t.pk for t in spot["trades"]]
    areas = [None, spot["district"].pk, spot["west"].pk, spot["villages"][0].pk, 10**9]
    query = BoardQuery(
        sort=rng.choice(("newest", "pay", "nearest")),
        q=rng.choice(("", "", "保洁", "保", "招瓦工", "茶")),
        trade_ids=rng.sample(trades, rng.choice((0, 0, 1, 2))),
        area_id=rng.choice(areas),
        pay_unit=rng.choice(("", "", "day", "hour")),
        pay_min_fen=rng.choice((None, None, 15000, 20000)),
        date=rng.choice((None, None, timezone.localdate() + dt.timedelta(days=rng.randrange(0, 4)))),
        limit=rng.choice((1, 3, 7, 20)),
    )
    if query.sort == "nearest" or rng.random() < 0.3:
        query.lat = HERE["lat"] + rng.uniform(-0.05, 0.05)
        query.lng = HERE["lng"] + rng.uniform(-0.05, 0.05)
        if rng.random() < 0.5:
            query.radius_km = rng.choice((0.5, 2.0, 5.0))
    return query


@pytest.mark.django_db
@pytest.mark.parametrize("window", [selectors.TOKEN_WINDOW, 3])  # 3: every word reads by rings nearest-first
def test_the_sql_text_rows_are_the_querysets_pages_over_random_queries(town, monkeypatch, window):  # noqa: F811
    monkeypatch.setattr(selectors, "TOKEN_WINDOW", window)
    monkeypatch.setattr(selectors, "_common_tokens", {})
    for post in Post.objects.all()[:6]:  # some starts over the next days, for the date filter
        Post.objects.filter(pk=post.pk).update(
            starts_at=timezone.now() + dt.timedelta(days=post.pk % 3, hours=2)
        )
    rng = random.Random(window)
    now = timezone.now()
    pages = 0
    for _ in range(120):
        query = _random_query(town, rng)
        for _ in range(4):  # the first pages: cursors agree too
            rows, posts = board(query, now=now, rows=True), board(query, now=now)
            assert board_rows(rows.rows or []) == [board_item(p) for p in posts.posts], query
            assert rows.next_cursor == posts.next_cursor, query
            pages += 1
            if not rows.next_cursor:
                break
            query.cursor = rows.next_cursor
    assert pages > 120


def _request(params: dict):
    return RequestFactory().get(BOARD, params, HTTP_ACCEPT="application/json")


@pytest.mark.django_db
def test_the_lean_response_is_the_drf_views_bytes(town):  # noqa: F811
    view = api.BoardView.as_view()
    trades = [t.pk for t in town["trades"]]
    specs = itertools.product(
        ("newest", "pay", "nearest"), ({}, {"q": "保洁"}, {"trade": trades[:2]}, {"area": town["west"].pk})
    )
    compared = 0
    for sort, spec in specs:
        params = {"sort": sort, "limit": 4, **spec, **(HERE if sort == "nearest" else {})}
        for _ in range(3):
            lean = api.board_lean(_request(params))
            assert lean is not None and lean.status_code == 200
            drf = view(_request(params))
            assert drf.status_code == 200 and lean.content == drf.content
            assert lean["Allow"] == drf["Allow"]
            compared += 1
            cursor = json.loads(drf.content)["next_cursor"]
            if not cursor:
                break
            params["cursor"] = cursor
    assert compared >= 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"limit": "ten"},
        {"sort": "nearest"},
        {"cursor": "not-a-cursor"},
        {"lat": "28.9"},
        {"format": "json"},
    ],
)
def test_what_the_lean_path_does_not_take_is_the_views_answer(town, params):  # noqa: F811
    assert api.board_lean(_request(params)) is None
    answer = APIClient().get(BOARD, params)
    direct = api.BoardView.as_view()(_request(params))
    assert answer.status_code == direct.status_code
    if answer.status_code == 400:
        assert answer.json() == direct.data and answer.json()["fields"]


@pytest.mark.django_db
def test_an_accept_header_json_does_not_satisfy_is_left_to_the_view(town):  # noqa: F811
    request = RequestFactory().get(BOARD, {}, HTTP_ACCEPT="text/html")
    assert api.board_lean(request) is None
    assert APIClient().get(BOARD, HTTP_ACCEPT="text/html").status_code == 406


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("window", [selectors.TOKEN_WINDOW, 1])
def test_a_post_that_moves_is_found_by_its_word_at_its_new_place(employer, monkeypatch, window):
    monkeypatch.setattr(selectors, "TOKEN_WINDOW", window)
    monkeypatch.setattr(selectors, "_common_tokens", {})
    far = PostFactory(employer=employer, title="采茶工", lat=29.60, lng=120.60)
    PostFactory(employer=employer, title="采茶季", lat=28.99, lng=120.09)
    query = {"q": "茶", "sort": "nearest", **HERE}

    def first():
        return APIClient().get(BOARD, query).json()["results"][0]["id"]

    assert first() != far.pk
    far.lat, far.lng = HERE["lat"] + 0.001, HERE["lng"]
    far.save(update_fields=["lat", "lng"])
    assert first() == far.pk
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT lat, lng FROM jobs_post_token WHERE post_id = %s", [far.pk])
        assert cursor.fetchall() == [(far.lat, far.lng)]
