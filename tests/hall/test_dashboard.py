"""Dashboard (数据看板): who may open it, scoping by service point, the figures, the daily snapshot, the
figure-provider registry, and CSV/Excel export."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hall import selectors, services
from hall.models import SupplyDemandSnapshot
from hall.tasks import snapshot_supply_demand
from jobs.models import Post
from jobs.services import claim_create
from tests.factories import PostFactory, UserFactory, verified_seeker

from .conftest import hall_staff, seeker

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("hall:dashboard")


@pytest.fixture
def market_data(employer, mason, cleaner, east, west, east_point, west_point):
    """East: 5 mason openings for 2 mason seekers, 1 cleaner seeker. West: 8 mason openings, 1 seeker,
    4 cleaner openings for 6 cleaner seekers."""
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, slots=5, title="东城瓦工")
    PostFactory(employer=employer, trade=mason, area=west, district=west.parent, slots=8, title="西城瓦工")
    PostFactory(employer=employer, trade=cleaner, area=west, district=west.parent, slots=4, title="西城保洁")
    seeker("13800000011", "东一", area=east, trades=[mason])
    seeker("13800000012", "东二", area=None, point=east_point, trades=[mason, cleaner])
    seeker("13800000021", "西一", area=west, trades=[mason])
    for n in range(6):
        seeker(f"138000001{n:02d}", f"西保洁{n}", area=west, trades=[cleaner])


def rows_by(data, key):
    return {r[key]: r for r in data}


# ------------------------------------------------------------------------------------------ access


def test_anonymous_goes_to_login_and_seekers_or_plain_staff_are_refused(client, east_point):
    assert client.get(DASHBOARD).status_code == 302
    client.force_login(verified_seeker(phone="13800000099"))
    assert client.get(DASHBOARD).status_code == 403
    client.force_login(hall_staff("13900000199", "没权限", east_point))
    assert client.get(DASHBOARD).status_code == 403


def test_station_staff_cannot_see_another_stations_data(client, east_staff, west_point, market_data):
    client.force_login(east_staff)
    response = client.get(DASHBOARD, {"point": west_point.pk})
    assert response.status_code == 200
    assert response.context["data"] is None
    assert "选择一个有效的选项" in response.content.decode() or "不能查看" in response.content.decode()
    assert (
        client.get(reverse("hall:dashboard_export", args=["csv"]), {"point": west_point.pk}).status_code
        == 404
    )

    # Their own view holds only East's posts and seekers.
    data = client.get(DASHBOARD).context["data"]
    assert data["scope"] == "东城零工驿站"
    trades = rows_by(data["trades"], "trade")
    assert trades["瓦工"]["openings"] == 5 and trades["瓦工"]["seekers"] == 2
    assert trades["保洁"]["openings"] == 0 and trades["保洁"]["seekers"] == 1
    assert data["deals"]["posts"] == 1
    assert "西城" not in str(data["trades"])


def test_station_scope_in_the_selector_refuses_other_points(east_staff, west_point):
    from core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        selectors.dashboard_scope(user=east_staff, point_id=west_point.pk)


def test_district_staff_see_everything_and_can_pick_a_station(
    client, district_staff, west_point, market_data
):
    client.force_login(district_staff)
    data = client.get(DASHBOARD).context["data"]
    assert data["scope"] == "全部网点"
    trades = rows_by(data["trades"], "trade")
    assert trades["瓦工"] == {"trade": "瓦工", "seekers": 3, "openings": 13, "posts": 2, "ratio": 4.33}
    assert trades["保洁"]["ratio"] == round(4 / 7, 2)
    west = client.get(DASHBOARD, {"point": west_point.pk}).context["data"]
    assert rows_by(west["trades"], "trade")["瓦工"]["openings"] == 8


def test_shortage_list_weights_by_districts(
    district_staff, market_data, other_district, employer, mason, cleaner
):
    # A third trade short in one district only, with a higher raw ratio than 瓦工.
    welder = type(mason).objects.create(name="焊工", category="construction", risk_class=4)
    PostFactory(employer=employer, trade=welder, area=other_district, district=other_district, slots=9)
    seeker("13800000031", "南一", area=other_district, trades=[welder])
    # 瓦工 also short in the other district: now reported by two districts.
    PostFactory(employer=employer, trade=mason, area=other_district, district=other_district, slots=6)
    scope = selectors.dashboard_scope(user=district_staff)
    shortage = selectors.shortage_trades(selectors.supply_demand_cells(scope=scope))
    assert [r["trade"] for r in shortage] == ["瓦工", "焊工"]
    assert shortage[0]["districts"] == 2 and shortage[0]["ratio"] == round(19 / 3, 2)
    assert shortage[1]["ratio"] == 9.0 and shortage[1]["districts"] == 1
    assert "保洁" not in [r["trade"] for r in shortage]  # more seekers than openings


def test_by_district_groups_streets_into_their_district(district_staff, market_data):
    cells = selectors.supply_demand_cells(scope=selectors.dashboard_scope(user=district_staff))
    districts = rows_by(selectors.by_district(cells), "district")
    assert districts["青溪区"]["openings"] == 17
    assert districts["青溪区"]["seekers"] == 1 + 2 + 1 + 6  # wanted-trade rows, 东二 counted once per trade


def test_fill_rate_time_to_fill_and_deals(client, district_staff, employer, mason, east):
    published = timezone.now() - dt.timedelta(hours=3)
    post = PostFactory(
        employer=employer, trade=mason, area=east, district=east.parent, slots=2, published_at=published
    )
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, slots=2)
    for phone in ("13800000041", "13800000042"):
        claim_create(post=post, worker=verified_seeker(phone=phone))
    assert Post.objects.get(pk=post.pk).slots_left == 0
    client.force_login(district_staff)
    deals = client.get(DASHBOARD).context["data"]["deals"]
    assert deals["posts"] == 2 and deals["slots"] == 4 and deals["filled"] == 2
    assert deals["fill_rate"] == 0.5
    assert deals["deals"] == 2 and deals["posts_filled"] == 1
    assert 2.9 <= deals["avg_hours_to_fill"] <= 3.1


def test_registrations_by_point_are_scoped(client, east_staff, district_staff, market_data):
    client.force_login(east_staff)
    assert client.get(DASHBOARD).context["data"]["registrations"] == [{"point": "东城零工驿站", "n": 1}]
    client.force_login(district_staff)
    rows = rows_by(client.get(DASHBOARD).context["data"]["registrations"], "point")
    assert rows["线上自助注册"]["n"] == 8 and rows["东城零工驿站"]["n"] == 1


def test_bad_filter_is_a_field_error(client, district_staff):
    client.force_login(district_staff)
    response = client.get(DASHBOARD, {"start": "2026-11-10", "end": "2026-11-01"})
    assert response.status_code == 200 and response.context["data"] is None
    assert "结束日期不能早于开始日期" in response.content.decode()
    response = client.get(DASHBOARD, {"start": "not-a-date"})
    assert response.status_code == 200 and response.context["data"] is None
    response = client.get(DASHBOARD, {"start": "2020-01-01", "end": "2026-01-01"})
    assert "时间跨度不能超过" in response.content.decode()


# -------------------------------------------------------------------------------------- history


def test_snapshot_task_writes_the_day_and_is_idempotent(market_data):
    assert snapshot_supply_demand() > 0
    count = SupplyDemandSnapshot.objects.count()
    assert snapshot_supply_demand() == count
    assert SupplyDemandSnapshot.objects.count() == count
    today = timezone.localdate()
    mason_rows = SupplyDemandSnapshot.objects.filter(day=today, trade__name="瓦工")
    assert sum(r.openings for r in mason_rows) == 13 and sum(r.seekers for r in mason_rows) == 3


def test_history_joins_past_snapshots_with_today_live(client, east_staff, market_data, employer, mason, east):
    yesterday = timezone.now() - dt.timedelta(days=1)
    with time_machine.travel(yesterday, tick=False):
        services.snapshot_take()
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, slots=3)  # today only
    client.force_login(east_staff)
    history = client.get(DASHBOARD).context["data"]["history"]
    assert [h["openings"] for h in history] == [5, 8]
    assert history[0]["day"] == timezone.localdate(yesterday).isoformat()
    assert history[0]["seekers"] == 3  # East's mason and cleaner wants


# ---------------------------------------------------------------------------------- other areas


def test_missing_providers_show_as_not_connected_and_registered_ones_render(
    client, district_staff, monkeypatch
):
    calls = []

    def fake_figures(*, start, end, service_point=None):
        calls.append((start, end, service_point))
        return {
            "cases": 4,
            "recovered_fen": 120050,
            "by_status": {"open": 1},
            "status_labels": {"open": "处理中"},
        }

    monkeypatch.setattr(selectors, "FIGURE_PROVIDERS", {})
    selectors.register_figure_provider(
        selectors.FigureProvider("gone", "已下线指标", "nowhere.selectors.figures")
    )
    selectors.register_figure_provider(
        selectors.FigureProvider(
            "fake", "测试指标", "tests.hall.fake", dates=True, labels={"cases": "案件"},
            nested_labels={"by_status": "status_labels"},
        )
    )  # fmt: skip
    real = selectors.resolve_provider
    monkeypatch.setattr(selectors, "resolve_provider", lambda p: fake_figures if p.key == "fake" else real(p))
    client.force_login(district_staff)
    response = client.get(DASHBOARD, {"start": "2026-11-01", "end": "2026-11-07"})
    panels = {p["key"]: p for p in response.context["data"]["panels"]}
    assert panels["gone"]["available"] is False and "未接入" in response.content.decode()
    assert panels["fake"]["rows"] == [["案件", 4], ["recovered_fen", "1200.50"], ["by_status·处理中", 1]]
    assert calls == [(dt.date(2026, 11, 1), dt.date(2026, 11, 7), None)]  # dates=True: the inclusive dates


def test_the_other_areas_panels_render_with_the_scopes_point(client, east_staff, east_point, monkeypatch):
    """Whichever of the other areas' selectors exist are called with the station's point and the period
    in the form they take, and render as labelled rows."""
    seen: dict[str, dict] = {}
    real = {p.key: selectors.resolve_provider(p) for p in selectors.FIGURE_PROVIDERS.values()}

    def spy_for(key):
        def spy(**kwargs):
            seen[key] = kwargs
            return real[key](**kwargs)

        return spy if real[key] else None

    monkeypatch.setattr(selectors, "resolve_provider", lambda p: spy_for(p.key))
    client.force_login(east_staff)
    data = client.get(DASHBOARD).context["data"]
    for panel in data["panels"]:
        assert panel["available"] is (real[panel["key"]] is not None)
        if panel["available"]:
            assert panel["rows"] and all(isinstance(label, str) for label, _ in panel["rows"])
    assert set(seen) == {k for k, fn in real.items() if fn}
    for key, kwargs in seen.items():
        assert kwargs["service_point"] == east_point, key
        expected = dt.datetime if not selectors.FIGURE_PROVIDERS[key].dates else dt.date
        assert type(kwargs["start"]) is expected, key


def test_registry_resolves_only_existing_functions():
    assert (
        selectors.resolve_provider(selectors.FigureProvider("x", "x", "hall.selectors.history"))
        is selectors.history
    )
    assert selectors.resolve_provider(selectors.FigureProvider("x", "x", "hall.selectors.nope")) is None
    assert selectors.resolve_provider(selectors.FigureProvider("x", "x", "nowhere.selectors.nope")) is None


# ------------------------------------------------------------------------------------------ export


def test_csv_and_excel_export(client, district_staff, market_data):
    client.force_login(district_staff)
    response = client.get(reverse("hall:dashboard_export", args=["csv"]))
    text = response.content.decode("utf-8-sig")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "工种供需" in text and "瓦工,3,13,2,4.33" in text
    response = client.get(reverse("hall:dashboard_export", args=["xlsx"]))
    book = load_workbook(io.BytesIO(response.content))
    assert "工种供需" in book.sheetnames
    rows = list(book["工种供需"].values)
    assert rows[0][0] == "工种" and ("瓦工", 3, 13, 2, 4.33) in rows
    assert client.get(reverse("hall:dashboard_export", args=["pdf"])).status_code == 404


def test_export_needs_its_own_permission(client, east_point):
    viewer = hall_staff("13900000111", "只看", east_point, "view_dashboard")
    client.force_login(viewer)
    assert client.get(DASHBOARD).status_code == 200
    assert "导出CSV" not in client.get(DASHBOARD).content.decode()
    assert client.get(reverse("hall:dashboard_export", args=["csv"])).status_code == 403


def test_staff_without_a_service_point_are_refused(client):
    loose = UserFactory(phone="13900000198", role="staff", is_staff=True)
    loose.user_permissions.set(Permission.objects.filter(codename="view_dashboard"))
    client.force_login(loose)
    assert client.get(DASHBOARD).status_code == 403


def test_dashboard_figures_are_cached_per_scope(
    client, east_staff, west_staff, market_data, settings, employer, mason, east
):
    settings.HALL_DASHBOARD_CACHE_SECONDS = 60
    client.force_login(east_staff)
    first = client.get(DASHBOARD).context["data"]
    PostFactory(employer=employer, trade=mason, area=east, district=east.parent, slots=2)
    assert client.get(DASHBOARD).context["data"] == first  # kept for a minute
    client.force_login(west_staff)
    west = client.get(DASHBOARD).context["data"]
    assert west["scope"] == "西城零工驿站"  # another scope is another entry, never East's figures
    assert rows_by(west["trades"], "trade")["瓦工"]["openings"] == 8


def test_trade_filter_narrows_districts_and_trend(
    client, district_staff, market_data, mason, other_district, employer, cleaner
):
    PostFactory(employer=employer, trade=cleaner, area=other_district, district=other_district, slots=7)
    client.force_login(district_staff)
    data = client.get(DASHBOARD, {"trade": mason.pk}).context["data"]
    assert data["trade"] == "瓦工"
    assert rows_by(data["districts"], "district")["青溪区"]["openings"] == 13  # 瓦工 only
    assert "南山县" not in rows_by(data["districts"], "district")  # only 保洁 there
    assert data["history"][-1]["openings"] == 13 and data["history"][-1]["seekers"] == 3
    assert {r["trade"] for r in data["trades"]} >= {"瓦工", "保洁"}  # the trade table stays whole
    response = client.get(DASHBOARD, {"trade": 999999})
    assert response.context["data"] is None and "选择一个有效的选项" in response.content.decode()


def test_the_funnel_and_other_panels_speak_chinese(client, district_staff):
    """No panel row shows an English key (``recommended 4 / sent 0``): nested figures take the
    provider's labels, rates show as percentages."""
    client.force_login(district_staff)
    response = client.get(DASHBOARD, {"start": "2026-11-01", "end": "2026-11-07"})
    for panel in response.context["data"]["panels"]:
        for name, value in panel["rows"]:
            shown = "" if value is None else value
            assert not re.search(r"[A-Za-z]{3,}", f"{name} {shown}"), (panel["key"], name, value)
    assert selectors._show("by_channel", {"recommended": 4, "view_rate": 0.25}, {"recommended": "推荐"}) == (
        "推荐 4 / 查看率 25.0%"
    )


def test_the_date_fields_show_the_period_the_dashboard_shows(client, district_staff):
    client.force_login(district_staff)
    today = timezone.localdate()
    response = client.get(DASHBOARD)
    data = response.context["data"]
    assert (data["start"], data["end"]) == ((today - dt.timedelta(days=29)).isoformat(), today.isoformat())
    page = response.content.decode()
    assert f'name="start" value="{data["start"]}"' in page and f'name="end" value="{data["end"]}"' in page
