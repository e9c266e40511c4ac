"""The big screen (大屏) in a real browser: it shows the point's open posts, pages through them by itself,
and picks up a post added to the database without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Area, ServicePoint
from tests.factories import AreaFactory, EmployerFactory, PostFactory, TradeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_screen_pages_and_refreshes_by_itself(live_server, browser, artifacts, settings):
    settings.HALL_SCREEN_CACHE_SECONDS = 1
    settings.HALL_SCREEN_FIGURES_SECONDS = 1
    settings.HALL_SCREEN_POLL_SECONDS = 1
    settings.HALL_SCREEN_PAGE_SIZE = 2
    settings.HALL_SCREEN_PAGE_SECONDS = 1
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    street = AreaFactory(name="东城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    point = ServicePoint.objects.create(
        name="东城零工驿站", kind=ServicePoint.Kind.STREET_MARKET, area=street, lat=28.9, lng=120.03
    )
    employer = EmployerFactory(created_by=UserFactory(phone="13700000031", role="employer"), name="青溪物业")
    trade = TradeFactory(name="保洁", category="housekeeping", risk_class=2)
    for n in range(3):
        PostFactory(employer=employer, trade=trade, area=street, district=district, title=f"开荒保洁{n}")

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    # The hall PC may hold a staff login: the screen's polling must not send it (and keep it from idling out).
    context.add_cookies(
        [{"name": "sessionid", "value": "staff-session-on-the-hall-pc", "url": live_server.url}]
    )
    polls = []
    context.on("request", lambda request: "/data" in request.url and polls.append(request.all_headers()))
    page = context.new_page()
    page.goto(f"{live_server.url}/hall/screen/{point.pk}/")
    expect(page.locator("#screen-posts tr[data-post]")).to_have_count(2)
    expect(page.locator("#screen-pages")).to_have_text("2")
    expect(page.locator('[data-figure="open_posts"]').first).to_have_text("3")
    page.evaluate("window.__sameDocument = true")

    # Pages by itself: page 2 comes up with the third post.
    expect(page.locator("#screen-page")).to_have_text("2", timeout=5000)
    expect(page.locator("#screen-posts")).to_contain_text("开荒保洁")

    # A new post in the database appears without a reload.
    PostFactory(employer=employer, trade=trade, area=street, district=district, title="新到岗位·搬家小工")
    expect(page.locator('[data-figure="open_posts"]').first).to_have_text("4", timeout=8000)
    expect(page.locator("#screen-posts")).to_contain_text("新到岗位·搬家小工", timeout=10000)
    assert page.evaluate("window.__sameDocument") is True
    assert polls and not any("cookie" in headers for headers in polls)
    # 扫码: a QR code (inline SVG, nothing the CSP refuses) that opens the board on this very host.
    qr = page.locator(".screen-qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 120 and box["height"] >= 120, box
    assert page.locator(".screen-qr").get_attribute("data-url") == f"{live_server.url}/jobs/"
    page.screenshot(path=artifacts / "hall_screen.png")
    context.close()
