"""The Content-Security-Policy in a real browser: it refuses what it should (and the guard in conftest.py
sees it, and the browser reports it to /csp-report/), and what has no journey of its own elsewhere works
under it: the API docs (Swagger UI), admin forms with their widgets, the board's "near me", ECharts
tooltips."""

from __future__ import annotations

import logging
import time

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from accounts.models import Area, ServicePoint
from tests.browser.conftest import pass_second_factor
from tests.factories import AreaFactory, EmployerFactory, PostFactory, TradeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Gig-pass-2026"

BREAK_THE_POLICY = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__inlineRan = true";
  document.body.append(script);
  document.body.insertAdjacentHTML("beforeend", '<p id="styled" style="color: red">x</p>');
  document.body.insertAdjacentHTML("beforeend", '<img id="elsewhere" src="https://example.com/pixel.png">');
}"""


def test_the_policy_refuses_inline_code_and_the_browser_reports_it(live_server, new_page, csp_guard, caplog):
    caplog.set_level(logging.WARNING, logger="core.csp")
    page = new_page()
    page.goto(live_server.url + "/jobs/")
    page.evaluate(BREAK_THE_POLICY)
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__inlineRan") is None
    assert (
        page.evaluate("() => getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    )
    recorded = page.evaluate("() => window.__cspViolations.map((v) => v.directive)")
    assert {"script-src-elem", "style-src-attr", "img-src"} <= set(recorded)

    # The guard saw the same (so a page that does this fails its test) ...
    csp_guard.settle()
    seen = " ".join(csp_guard.violations)
    assert "script-src-elem" in seen and "style-src-attr" in seen and "img-src" in seen
    assert any("Content Security Policy" in line for line in csp_guard.console)

    # ... and the browser told the server, which logged the directive and the page, without the query.
    deadline = time.monotonic() + 10  # report-uri: sent at once
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = [r.getMessage() for r in caplog.records if r.name == "core.csp"]
        if any("script-src-elem" in line for line in lines):
            break
        page.wait_for_timeout(500)
    assert any("script-src-elem blocked inline on /jobs/" in line for line in lines), lines
    assert any("img-src blocked https://example.com/pixel.png on /jobs/" in line for line in lines), lines

    # Expected here; anywhere else they fail the test.
    csp_guard.violations.clear()
    csp_guard.console.clear()


def test_api_docs_render_under_the_policy(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/api/v1/docs/")
    expect(page.locator(".swagger-ui .title")).to_contain_text("gigmarket API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens (React renders, no eval)
    expect(page.locator(".opblock-body").first).to_be_visible()


def test_admin_forms_and_widgets_work_under_the_policy(live_server, browser):
    admin_user = UserFactory(
        phone="13500000090", name="管理员", role="staff", is_staff=True, is_superuser=True
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.get_by_label("手机号").fill("13500000090")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page, admin_user)  # the second factor's pages are under the policy too
    expect(page.locator("#review-queues")).to_be_visible()
    page.goto(live_server.url + "/admin/accounts/user/")
    expect(page.locator("#result_list")).to_be_visible()
    page.locator("#action-toggle").check()  # the changelist's select-all (admin's actions.js)
    expect(page.locator(".action-counter")).to_contain_text("1")
    page.goto(live_server.url + "/admin/accounts/user/add/")
    expect(page.locator("#content h1")).to_be_visible()
    page.goto(live_server.url + "/admin/auth/group/add/")
    expect(page.locator("#id_permissions_filter")).to_be_visible()  # SelectFilter2 built its widget
    page.locator("#id_permissions_input").fill("dashboard")
    context.close()


def test_board_near_me_runs_from_its_file(live_server, new_page):
    page = new_page()
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 28.9, "longitude": 120.03})
    page.goto(live_server.url + "/jobs/")
    page.get_by_role("button", name="找我附近的活").click()
    page.wait_for_url("**sort=nearest**")
    assert "lat=28.9" in page.url and "lng=120.03" in page.url


def test_echarts_tooltips_draw_without_inline_styles(live_server, browser):
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    street = AreaFactory(name="东城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    market = ServicePoint.objects.create(
        name="青溪区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=district
    )
    employer = EmployerFactory(created_by=UserFactory(phone="13700000091", role="employer"))
    PostFactory(
        employer=employer, trade=TradeFactory(name="瓦工", risk_class=2), area=street, district=district
    )
    staff = UserFactory(phone="13900000091", name="老陈", role="staff", is_staff=True, service_point=market)
    staff.user_permissions.set(Permission.objects.filter(codename="view_dashboard"))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=/hall/dashboard/")
    page.get_by_label("手机号").fill(staff.phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page, staff)
    expect(page.locator("body")).to_have_attribute("data-charts-ready", "3")
    before = page.locator("#chart-trades canvas").first.screenshot()
    box = page.locator("#chart-trades").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(500)
    after = page.locator("#chart-trades canvas").first.screenshot()
    assert before != after  # the tooltip was drawn on the canvas
    context.close()
