"""Big screen (大屏): the page, its cached JSON data (ETag, Cache-Control), nearest posts first, the ticker."""

from __future__ import annotations

import json
import time

import pytest
import time_machine
from django.urls import reverse

from tests.factories import EmployerFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def data(client, point, **headers):
    return client.get(reverse("hall:screen_data", args=[point.pk]), headers=headers)


def test_page_renders_with_its_data_url(client, east_point):
    response = client.get(reverse("hall:screen", args=[east_point.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "东城零工驿站 · 今日招工" in html
    assert reverse("hall:screen_data", args=[east_point.pk]) in html
    assert "hall/screen.js" in html


def test_unknown_or_inactive_point_is_404(client, east_point):
    assert client.get(reverse("hall:screen", args=[999999])).status_code == 404
    east_point.is_active = False
    east_point.save()
    assert client.get(reverse("hall:screen", args=[east_point.pk])).status_code == 404
    assert data(client, east_point).status_code == 404


def test_data_lists_open_posts_nearest_first_without_contact_details(
    client, east_point, east, employer, mason
):
    far = PostFactory(
        employer=employer, trade=mason, area=east, district=east.parent, lat=29.3, lng=120.3, title="远的"
    )
    near = PostFactory(
        employer=employer, trade=mason, area=east, district=east.parent, lat=29.001, lng=120.001, title="近的",
        pay_fen=25050, slots=3,
    )  # fmt: skip
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, status="draft", title="草稿")
    pending = EmployerFactory(created_by=UserFactory(role="employer"), status="pending")
    PostFactory(
        employer=pending, trade=mason, area=east, district=east.parent, lat=29.01, lng=120.0, title="未认证"
    )

    response = data(client, east_point)
    body = response.json()
    assert response.status_code == 200
    titles = [p["title"] for p in body["posts"]]
    assert titles[0] == "近的" and titles[-1] == "远的" and "草稿" not in titles
    first = body["posts"][0]
    assert first["pay"] == "250.50元/天"
    assert first["slots_left"] == 3 and first["trade"] == "瓦工" and first["verified"] is True
    assert first["place"].startswith("东城街道")
    assert {p["title"]: p["verified"] for p in body["posts"]}["未认证"] is False
    assert "13700001111" not in response.content.decode()  # the contact phone never reaches the screen
    assert body["figures"]["open_posts"] == 3
    assert body["figures"]["open_slots"] == 3 + 5 + 5
    assert near.pk and far.pk


def test_data_is_cached_with_etag_and_answers_304(
    client, east_point, east, employer, mason, django_assert_num_queries
):
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent)
    first = data(client, east_point)
    etag = first["ETag"]
    assert first["Cache-Control"] == "public, max-age=5"
    with django_assert_num_queries(0):
        again = data(client, east_point)
    assert again.content == first.content
    with django_assert_num_queries(0):
        not_modified = data(client, east_point, if_none_match=etag)
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag
    assert data(client, east_point, if_none_match='"other"').status_code == 200


def test_new_post_shows_once_the_cache_expires(client, east_point, east, employer, mason, settings):
    from django.core.cache import cache

    assert data(client, east_point).json()["posts"] == []
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title="新来的活")
    assert data(client, east_point).json()["posts"] == []  # still the cached answer
    cache.clear()  # what the cache's expiry does after HALL_SCREEN_CACHE_SECONDS
    assert [p["title"] for p in data(client, east_point).json()["posts"]] == ["新来的活"]


def test_point_without_coordinates_shows_its_district_newest_first(
    client, market, east, other_district, employer, mason
):
    market.lat = market.lng = None
    market.save()
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title="本区")
    PostFactory(employer=employer, trade=mason, area=other_district, district=other_district, title="外县")
    body = json.loads(data(client, market).content)
    assert [p["title"] for p in body["posts"]] == ["本区"]


def test_etag_holds_across_cache_rebuilds_while_nothing_changes(client, east_point, east, employer, mason):
    from django.core.cache import cache

    PostFactory(employer=employer, trade=mason, area=east, district=east.parent)
    etag = data(client, east_point)["ETag"]
    cache.clear()
    assert data(client, east_point, if_none_match=etag).status_code == 304
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent)
    cache.clear()
    changed = data(client, east_point, if_none_match=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_stale_copy_is_served_while_another_request_rebuilds(
    client, east_point, east, employer, mason, settings, django_assert_num_queries
):
    from django.core.cache import cache

    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title="旧的")
    data(client, east_point)
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title="新的")
    key = f"hall:screen:{east_point.pk}"
    _fresh, value = cache.get(key)
    cache.set(key, (0, value), 60)  # gone stale
    cache.add(f"{key}:rebuild", 1, 5)  # another worker is rebuilding
    with django_assert_num_queries(0):
        stale = data(client, east_point)
    assert [p["title"] for p in stale.json()["posts"]] == ["旧的"]
    cache.delete(f"{key}:rebuild")  # that rebuild ended without storing: the next request rebuilds
    fresh = data(client, east_point)
    assert sorted(p["title"] for p in fresh.json()["posts"]) == ["新的", "旧的"]
    assert cache.get(f"{key}:rebuild") is None


def test_each_process_keeps_a_short_local_copy(
    client, east_point, east, employer, mason, settings, django_assert_num_queries
):
    from django.core.cache import cache

    from hall import views

    settings.HALL_SCREEN_LOCAL_SECONDS = 1
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title="本地副本")
    first = data(client, east_point)
    cache.clear()  # even with the shared copy gone, the process answers from its own for a second
    with django_assert_num_queries(0):
        assert data(client, east_point).content == first.content
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title="后来的")
    with time_machine.travel(time.time() + 1.5):
        titles = [p["title"] for p in data(client, east_point).json()["posts"]]  # local copy expired: rebuilt
    assert sorted(titles) == ["后来的", "本地副本"]
    assert views.SCREENS.local_value(str(east_point.pk))[0] != first.content


def test_ticker_counts_are_shared_by_every_screen(
    client, east_point, west_point, east, employer, mason, settings
):
    from django.core.cache import cache

    PostFactory(employer=employer, trade=mason, area=east, district=east.parent)
    assert data(client, east_point).json()["figures"]["open_posts"] == 1
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent)
    cache.delete(f"hall:screen:{west_point.pk}")
    assert data(client, west_point).json()["figures"]["open_posts"] == 1  # the shared copy, not rebuilt
    assert len(data(client, west_point).json()["posts"]) == 2  # while the point's own posts are fresh
