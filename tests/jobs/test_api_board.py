"""The public board and post detail over the API: filters, sorting, keyset pages in one query, structured
400s for bad parameters, drafts hidden, the contact phone masked until it may be shown."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from jobs import services
from jobs.rules import rules
from tests.factories import AreaFactory, EmployerFactory, PostFactory, TradeFactory

pytestmark = pytest.mark.django_db

BOARD = reverse("api:post-list")


def api_as(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        _, token = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def detail(post) -> str:
    return reverse("api:post-detail", args=[post.pk])


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
                             pay_fen=35000, lat=28.80, lng=119.90, published_at=now - dt.timedelta(hours=1)),
        "hourly": PostFactory(employer=employer, trade=cleaning, area=west, district=district, title="家庭保洁钟点工",
                              pay_fen=3500, pay_unit="hour", lat=None, lng=None, published_at=now),
    }  # fmt: skip
    return {
        "west": west,
        "east": east,
        "district": district,
        "cleaning": cleaning,
        "welding": welding,
        "brick": brick,
        "posts": posts,
    }


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["title"] for row in response.json()["results"]]


# ------------------------------------------------------------------------------------------- board


def test_board_is_public_newest_first_with_everything_a_list_needs(city, employer):
    PostFactory(employer=employer, title="草稿岗位", status="draft")
    PostFactory(employer=employer, title="关闭岗位", status="closed")
    PostFactory(
        employer=employer,
        title="开工了的岗位",
        starts_at=timezone.now() - dt.timedelta(hours=1),
        ends_at=timezone.now() + dt.timedelta(hours=5),
    )

    response = APIClient().get(BOARD)

    assert titles(response) == ["家庭保洁钟点工", "砌墙瓦工", "钢结构电焊", "小区开荒保洁"]
    body = response.json()
    assert body["next_cursor"] is None
    row = body["results"][1]
    brick = city["posts"]["brick"]
    assert row["id"] == brick.pk
    assert row["trade"] == {"id": city["brick"].pk, "name": "瓦工"}
    assert row["employer"] == {"id": employer.pk, "name": employer.name, "kind": "company", "verified": True}
    assert row["area"] == {"id": city["east"].pk, "name": "东城街道"}
    assert row["district"] == {"id": city["district"].pk, "name": "青溪区"}
    assert row["pay_fen"] == 35000 and row["pay_unit"] == "day"
    assert row["slots"] == 5 and row["slots_left"] == 5
    assert row["distance_km"] is None
    assert "contact_phone" not in row  # the board never carries a phone number


def test_board_ignores_a_bad_token_it_does_not_need(city):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert len(titles(client.get(BOARD))) == 4


@pytest.mark.parametrize(
    ("q", "expected"),
    [("保洁", {"小区开荒保洁", "家庭保洁钟点工"}), ("焊", {"钢结构电焊"}), ("瓦工", {"砌墙瓦工"}),
     ("开荒保洁", {"小区开荒保洁"}), ("木工", set())],
)  # fmt: skip
def test_keyword_search_finds_short_chinese_words(city, q, expected):
    assert set(titles(APIClient().get(BOARD, {"q": q}))) == expected


def test_filters_combine(city):
    client = APIClient()

    assert set(titles(client.get(BOARD, {"area": city["east"].pk}))) == {"钢结构电焊", "砌墙瓦工"}
    assert len(titles(client.get(BOARD, {"area": city["district"].pk}))) == 4
    assert titles(client.get(BOARD, {"pay_unit": "hour"})) == ["家庭保洁钟点工"]
    assert set(titles(client.get(BOARD, {"pay_min": 35000}))) == {"钢结构电焊", "砌墙瓦工"}
    several = client.get(BOARD, {"trade": [city["welding"].pk, city["brick"].pk]})
    assert set(titles(several)) == {"钢结构电焊", "砌墙瓦工"}
    comma = client.get(BOARD, {"trade": f"{city['welding'].pk},{city['brick'].pk}"})
    assert set(titles(comma)) == {"钢结构电焊", "砌墙瓦工"}
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    assert len(titles(client.get(BOARD, {"date": day}))) == 4
    assert titles(client.get(BOARD, {"date": "2099-01-01"})) == []
    both = client.get(BOARD, {"q": "保洁", "area": city["west"].pk, "pay_min": 10000})
    assert titles(both) == ["小区开荒保洁"]


def test_sorted_by_pay_and_by_distance(city):
    client = APIClient()

    assert titles(client.get(BOARD, {"sort": "pay"})) == [
        "钢结构电焊",
        "砌墙瓦工",
        "小区开荒保洁",
        "家庭保洁钟点工",
    ]
    near = client.get(BOARD, {"sort": "nearest", "lat": "28.90", "lng": "120.03"})
    assert titles(near) == ["小区开荒保洁", "钢结构电焊", "砌墙瓦工"]  # a post without a place is left out
    distances = [row["distance_km"] for row in near.json()["results"]]
    assert distances[0] == 0.0 and 8 < distances[1] < 10
    within = client.get(BOARD, {"lat": 28.90, "lng": 120.03, "radius_km": 5})
    assert titles(within) == ["小区开荒保洁"]


@pytest.mark.parametrize("sort", ["newest", "pay", "nearest"])
def test_cursor_pages_walk_every_post_once(employer, sort):
    for i in range(13):
        PostFactory(employer=employer, pay_fen=10000 + (i % 3) * 100, lat=28.9 + (i % 4) * 0.01, lng=120.0)
    seen, params, pages = [], {"sort": sort, "lat": 28.9, "lng": 120.0, "limit": 5}, 0
    while True:
        body = APIClient().get(BOARD, params).json()
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 13


@pytest.mark.parametrize("limit", [1, 20, 50])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "保洁", "sort": "pay"},
        {"sort": "nearest", "lat": 28.9, "lng": 120.0, "radius_km": 50},
        {"trade": "1,2,3", "area": 1, "pay_unit": "day", "pay_min": 100, "date": "2030-01-01"},
    ],
)
def test_a_page_is_two_queries_whatever_its_size_and_filters(
    employer, limit, params, django_assert_max_num_queries
):
    trade = TradeFactory(name="保洁")
    for i in range(60):
        PostFactory(employer=employer, trade=trade, title=f"保洁{i}", lat=28.9 + i * 0.001, lng=120.0)
    client = APIClient()
    # Nearest-first reads one distance ring per query and widens it (doubling) while a page is not full;
    # sparse posts take a few rings plus one look at the farthest post (jobs.selectors._nearest_rows).
    most = 6 if params.get("sort") == "nearest" else 2

    with django_assert_max_num_queries(most):  # (an empty page is one)
        first = client.get(BOARD, {**params, "limit": limit})
    assert first.status_code == 200
    if first.json()["next_cursor"]:
        with django_assert_max_num_queries(most):
            second = client.get(BOARD, {**params, "limit": limit, "cursor": first.json()["next_cursor"]})
        assert second.status_code == 200


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"pay_min": -1}, "pay_min"),
        ({"pay_min": "12.5元"}, "pay_min"),
        ({"pay_unit": "week"}, "pay_unit"),
        ({"trade": "abc"}, "trade"),
        ({"area": "东城"}, "area"),
        ({"area": "9" * 20}, "area"),
        ({"trade": f"1,{'9' * 20}"}, "trade"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": "9999-12-31"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        ({"lat": 91, "lng": 120}, "lat"),
        ({"lat": 28.9, "lng": 181}, "lng"),
        ({"lat": "north", "lng": 120}, "lat"),
        ({"lat": "nan", "lng": 120}, "lat"),
        ({"lat": 28.9, "lng": "inf"}, "lng"),
        ({"lat": 28.9}, "lng"),
        ({"radius_km": 5}, "radius_km"),
        ({"lat": 28.9, "lng": 120, "radius_km": -3}, "radius_km"),
        ({"sort": "random"}, "sort"),
        ({"sort": "nearest"}, "lat"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": _cursor(["yesterday", 5])}, "cursor"),
        ({"cursor": _cursor(["2026-01-01T00:00:00+08:00", "five"])}, "cursor"),
        ({"sort": "pay", "cursor": _cursor(["lots", 5])}, "cursor"),
        ({"sort": "pay", "cursor": _cursor([[1], {"a": 2}])}, "cursor"),
        ({"sort": "nearest", "lat": 28.9, "lng": 120, "cursor": _cursor(["far", 1])}, "cursor"),
        ({"q": "保" * 51}, "q"),
    ],
)
def test_bad_parameters_are_a_structured_400(city, params, field):
    response = APIClient().get(BOARD, params)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    assert body["detail"]


# ------------------------------------------------------------------------------------------- detail


def test_detail_is_public_with_the_phone_masked_and_the_rules(post, employer):
    response = APIClient().get(detail(post))

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == post.title
    assert body["contact_phone"] == "137****1111"
    assert body["employer"]["verified"] is True
    assert body["status"] == "open"
    assert body["my_claim"] is None
    assert body["rules"] == rules().as_text()
    assert body["rules"][2].startswith("开工30分钟后仍未签到，记为未到岗")


def test_members_and_confirmed_workers_see_the_full_phone(post, boss, worker, worker2):
    assert api_as(boss).get(detail(post)).json()["contact_phone"] == "13700001111"
    assert api_as(worker).get(detail(post)).json()["contact_phone"] == "137****1111"

    claim = services.claim_create(post=post, worker=worker)

    body = api_as(worker).get(detail(post)).json()
    assert body["contact_phone"] == "13700001111"
    assert body["my_claim"] == {"id": claim.pk, "status": "confirmed", "order_id": claim.order.pk}
    assert api_as(worker2).get(detail(post)).json()["contact_phone"] == "137****1111"


def test_a_draft_is_404_to_everyone_but_the_employers_members(alice, charlie):
    alices = EmployerFactory(created_by=alice)
    draft = PostFactory(employer=alices, status="draft", published_at=None)

    assert APIClient().get(detail(draft)).status_code == 404
    response = api_as(charlie).get(detail(draft))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到", "fields": {}}
    assert api_as(alice).get(detail(draft)).status_code == 200


def test_unknown_post_is_404():
    assert APIClient().get(reverse("api:post-detail", args=[999999])).status_code == 404


def test_worker_claim_on_a_draft_is_404(alice, worker):
    draft = PostFactory(employer=EmployerFactory(created_by=alice), status="draft", published_at=None)

    response = api_as(worker).post(reverse("api:post-claims", args=[draft.pk]), {}, format="json")

    assert response.status_code == 404
    assert not draft.claims.exists()


def test_claiming_needs_a_login(post):
    response = APIClient().post(reverse("api:post-claims", args=[post.pk]), {}, format="json")

    assert response.status_code == 401
    assert not post.claims.exists()


def test_board_shape_matches_its_documented_schema(city):
    from jobs.serializers import BoardPostSerializer

    row = APIClient().get(BOARD).json()["results"][0]

    assert set(row) == set(BoardPostSerializer().fields)


def test_board_pages_are_cached_briefly_and_shared(settings, city, django_assert_num_queries):
    settings.BOARD_CACHE_SECONDS = 5
    client = api_as()
    first = client.get("/api/v1/posts/", {"q": "保洁"})
    with django_assert_num_queries(0):
        again = api_as().get("/api/v1/posts/", {"q": "保洁"})  # another visitor, same page: no query
    assert again.json() == first.json()
    with django_assert_num_queries(2):
        api_as().get("/api/v1/posts/", {"q": "瓦工"})  # another page is its own entry (ids, then rows)


def test_cached_board_ignores_unknown_parameters_and_never_stores_a_refused_query(settings, city):
    settings.BOARD_CACHE_SECONDS = 5
    from django.core.cache import cache
    from django.http import QueryDict

    from jobs import board_cache
    from jobs.api import BOARD_PARAMS

    assert api_as().get("/api/v1/posts/", {"limit": "0"}).status_code == 400
    assert api_as().get("/api/v1/posts/", {"limit": "0"}).status_code == 400  # still refused, not served
    ok = api_as().get("/api/v1/posts/", {"q": "保洁", "utm": "x"})
    assert ok.status_code == 200 and ok["Content-Type"] == "application/json"
    assert (
        cache.get(board_cache.pages.shared_key(board_cache.key_for(QueryDict("q=保洁"), BOARD_PARAMS)))[1]
        == ok.content
    )  # utm: same entry
    assert (
        cache.get(board_cache.pages.shared_key(board_cache.key_for(QueryDict("limit=0"), BOARD_PARAMS)))
        is None
    )


def test_each_process_keeps_hot_pages_for_a_second_without_a_cache_round_trip(
    settings, city, django_assert_num_queries, monkeypatch
):
    import time

    from django.core.cache import cache

    from jobs import board_cache

    settings.BOARD_CACHE_SECONDS, settings.BOARD_LOCAL_CACHE_SECONDS = 5, 1
    board_cache.clear_local()
    first = api_as().get("/api/v1/posts/", {"q": "保洁"}).content
    cache.clear()  # the shared cache is gone: the process still has the page …
    with django_assert_num_queries(0):
        assert api_as().get("/api/v1/posts/", {"q": "保洁"}).content == first
    later = time.time() + 1.5
    monkeypatch.setattr(time, "time", lambda: later)
    with django_assert_num_queries(2):  # … for a second, then asks the database again
        api_as().get("/api/v1/posts/", {"q": "保洁"})
    board_cache.clear_local()


def test_a_stale_page_is_rebuilt_by_one_visitor_while_the_others_get_the_stale_copy(
    settings, city, django_assert_num_queries, monkeypatch
):
    import time

    from jobs import board_cache

    settings.BOARD_CACHE_SECONDS, settings.BOARD_LOCAL_CACHE_SECONDS = 5, 0
    old = api_as().get("/api/v1/posts/", {"q": "保洁"}).content
    PostFactory(employer=EmployerFactory(), trade=city["cleaning"], title="新来的保洁活")
    stale = time.time() + 6
    monkeypatch.setattr(time, "time", lambda: stale)
    from django.core.cache import cache
    from django.http import QueryDict

    from jobs.api import BOARD_PARAMS

    key = board_cache.key_for(QueryDict("q=保洁"), BOARD_PARAMS)
    cache.add(board_cache.pages.lock_key(key), 1, 10)  # another visitor is rebuilding it right now
    with django_assert_num_queries(0):
        assert api_as().get("/api/v1/posts/", {"q": "保洁"}).content == old
    cache.delete(board_cache.pages.lock_key(key))  # nobody is: this visitor rebuilds
    with django_assert_num_queries(2):
        new = api_as().get("/api/v1/posts/", {"q": "保洁"}).content
    assert "新来的保洁活" in new.decode()
    with django_assert_num_queries(0):
        assert api_as().get("/api/v1/posts/", {"q": "保洁"}).content == new


def test_a_page_enters_the_shared_cache_only_once_it_is_asked_for_again(
    settings, city, django_assert_num_queries
):
    from django.core.cache import cache
    from django.http import QueryDict

    from jobs import board_cache
    from jobs.api import BOARD_PARAMS

    settings.BOARD_CACHE_SECONDS, settings.BOARD_LOCAL_CACHE_SECONDS = 5, 0
    settings.BOARD_CACHE_ADMIT_AFTER = 2
    board_cache.clear_local()
    stored = board_cache.pages.shared_key(board_cache.key_for(QueryDict("q=保洁"), BOARD_PARAMS))
    first = api_as().get("/api/v1/posts/", {"q": "保洁"})  # asked for once: built, not written
    assert first["X-Board-Cache"] == "miss" and cache.get(stored) is None
    second = api_as().get("/api/v1/posts/", {"q": "保洁"})  # again: now it is kept for everyone
    assert second["X-Board-Cache"] == "miss" and cache.get(stored)[1] == second.content == first.content
    with django_assert_num_queries(0):
        third = api_as().get("/api/v1/posts/", {"q": "保洁"})
    assert third["X-Board-Cache"] == "hit" and third.content == first.content
    # Another page asked for once is never written, however many other pages are asked for meanwhile.
    api_as().get("/api/v1/posts/", {"q": "瓦工"})
    assert (
        cache.get(board_cache.pages.shared_key(board_cache.key_for(QueryDict("q=瓦工"), BOARD_PARAMS)))
        is None
    )
    board_cache.clear_local()


def test_the_doorkeeper_forgets_the_least_recently_asked_page_first():
    from jobs.board_cache import Doorkeeper

    door = Doorkeeper(2)
    assert not door.admit("a", 2) and not door.admit("b", 2)
    assert door.admit("a", 2)  # a is now the most recent
    assert not door.admit("c", 2)  # b goes out, not a
    assert door.admit("a", 2) and not door.admit("b", 2)
    assert door.admit("x", 1)  # 1: admitted at once
