"""The dashboard (数据看板) in a real browser: a staff member signs in, opens it from the staff home, and the
ECharts charts draw the data (the canvases hold drawn pixels); a screenshot is saved."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from accounts.models import Area, ServicePoint
from tests.browser.conftest import pass_second_factor
from tests.factories import (
    AreaFactory,
    EmployerFactory,
    PostFactory,
    TradeFactory,
    UserFactory,
    verified_seeker,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Gig-pass-2026"

DRAWN = """(id) => {
  const canvas = document.querySelector('#' + id + ' canvas');
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  return painted;
}"""


def test_dashboard_draws_its_charts(live_server, browser, artifacts):
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    street = AreaFactory(name="东城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    market = ServicePoint.objects.create(
        name="青溪区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=district
    )
    employer = EmployerFactory(created_by=UserFactory(phone="13700000061", role="employer"))
    for name, slots, seekers in (("瓦工", 9, 2), ("保洁", 3, 5), ("搬运", 6, 1)):
        trade = TradeFactory(name=name, category="construction", risk_class=2)
        PostFactory(employer=employer, trade=trade, area=street, district=district, slots=slots)
        for n in range(seekers):
            worker = verified_seeker(phone=f"136{trade.pk:04d}{n:04d}")
            worker.worker_profile.area = street
            worker.worker_profile.save()
            worker.worker_profile.wanted_trades.set([trade])
    staff = UserFactory(phone="13900000061", name="老陈", role="staff", is_staff=True, service_point=market)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_dashboard", "export_dashboard"]))

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.get_by_label("手机号").fill(staff.phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page, staff)
    page.locator("#link-dashboard").click()
    expect(page.get_by_role("heading", name="数据看板")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-charts-ready", "3")
    for chart in ("chart-trades", "chart-districts", "chart-history"):
        assert page.evaluate(DRAWN, chart) > 1000, chart
    expect(page.locator("#ratios")).to_contain_text("瓦工")
    expect(page.locator("#shortage")).to_contain_text("4.5")  # 瓦工: 9 openings ÷ 2 seekers
    page.screenshot(path=artifacts / "hall_dashboard.png", full_page=True)
    assert (artifacts / "hall_dashboard.png").stat().st_size > 20_000
    context.close()
