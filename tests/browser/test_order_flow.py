"""One order from post to ratings, in a real browser, on phone-sized screens: the employer posts through the
post form (with the site's location from the browser) → the worker finds it on the board and grabs it →
both see the order → the worker checks in on site and checks out → the employer confirms → both rate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Area
from jobs.models import Order, Post, Rating
from tests.factories import (
    AreaFactory,
    EmployerFactory,
    PostFactory,
    TradeFactory,
    UserFactory,
    started,
    verified_seeker,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
BOSS_PHONE = "13700000021"
WORKER_PHONE = "13600000021"
SITE = {"latitude": 28.9, "longitude": 120.03}
NEAR_SITE = {"latitude": 28.9012, "longitude": 120.0311}  # about 160 m away


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def located(page, base: str, where: dict) -> None:
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation(where)


def test_post_grab_check_in_out_confirm_and_rate(live_server, new_page, artifacts):
    base = live_server.url
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    AreaFactory(name="西城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    TradeFactory(name="保洁", category="housekeeping", risk_class=2)
    boss = UserFactory(phone=BOSS_PHONE, name="陈老板", role="employer")
    EmployerFactory(created_by=boss, name="青溪物业服务有限公司")
    worker = verified_seeker(phone=WORKER_PHONE, name="赵洪亮")
    # Check-in opens an hour before the start (settings.JOBS_RULES), so a start 40 minutes away lets the
    # worker check in right after grabbing, with no clock tricks across the live server's thread.
    start = timezone.localtime() + dt.timedelta(minutes=40)

    # --- The employer posts through the form, using the phone's location for the site.
    employer = new_page()
    located(employer, base, SITE)
    login(employer, base, BOSS_PHONE)
    employer.get_by_role("link", name="发布招工").first.click()
    expect(employer.get_by_role("heading", name="发布招工")).to_be_visible()
    employer.get_by_label("工种").select_option(label="保洁")
    employer.get_by_label("标题", exact=True).fill("小区开荒保洁 招2人")
    employer.get_by_label("工作内容（可不填）").fill("新房开荒，擦玻璃、清理地面，工具我们提供")
    employer.get_by_label("报酬（元）").fill("35")
    employer.get_by_label("按什么算").select_option(label="小时")
    employer.get_by_label("招几个人").fill("2")
    employer.get_by_label("每人预计数量").fill("3")
    employer.get_by_label("开工时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    employer.get_by_label("收工时间").fill((start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    employer.get_by_label("工作地区").select_option(label="青溪区 · 西城街道")
    employer.get_by_label("详细地址").fill("幸福小区3栋")
    employer.get_by_role("button", name="用我现在的位置作工作地点").click()
    expect(employer.locator("#here-status")).to_contain_text("已记录位置")
    employer.screenshot(path=artifacts / "jobs_post_form.png", full_page=True)
    employer.get_by_role("button", name="立即发布").click()
    expect(employer.locator(".status-big")).to_have_text("招工中")
    employer.screenshot(path=artifacts / "jobs_post_manage.png", full_page=True)
    post = Post.objects.get()
    assert post.pay_fen == 3500 and post.pay_unit == "hour" and post.status == Post.Status.OPEN
    assert post.lat == pytest.approx(28.9) and post.lng == pytest.approx(120.03)

    # --- The worker finds it on the board with a two-character word and grabs it.
    worker_page = new_page()
    located(worker_page, base, NEAR_SITE)
    login(worker_page, base, WORKER_PHONE)
    worker_page.get_by_role("link", name="找活", exact=True).first.click()
    worker_page.get_by_label("找什么活").fill("保洁")
    worker_page.get_by_role("button", name="搜索").click()
    card = worker_page.locator(".post-card", has_text="小区开荒保洁")
    expect(card).to_contain_text("35元/小时")
    expect(card).to_contain_text("✓ 已认证")
    worker_page.screenshot(path=artifacts / "jobs_board.png", full_page=True)
    card.get_by_role("link").first.click()
    expect(worker_page.locator(".facts")).to_contain_text("137****0021")  # masked before the order
    worker_page.screenshot(path=artifacts / "jobs_post_detail.png", full_page=True)
    worker_page.get_by_role("button", name="抢单").click()
    expect(worker_page.locator("#order-status")).to_have_text("已确认")
    expect(worker_page.get_by_text("抢单成功")).to_be_visible()
    expect(worker_page.get_by_role("link", name=BOSS_PHONE)).to_be_visible()  # shown once confirmed
    worker_page.screenshot(path=artifacts / "jobs_order_confirmed.png", full_page=True)
    order = Order.objects.get()

    # --- Both see the order.
    worker_page.get_by_role("link", name="我的订单").first.click()
    expect(worker_page.locator(".list").first).to_contain_text("小区开荒保洁")
    worker_page.screenshot(path=artifacts / "jobs_my_orders.png", full_page=True)
    employer.get_by_role("link", name="我的岗位").first.click()
    expect(employer.locator(".list")).to_contain_text("1 人接单/报名")
    employer.screenshot(path=artifacts / "jobs_my_posts.png", full_page=True)
    employer.get_by_role("link", name="查看全部订单").click()
    expect(employer.locator(".list")).to_contain_text("赵洪亮")
    employer.get_by_role("link", name="小区开荒保洁").click()
    expect(employer.locator("#order-status")).to_have_text("已确认")

    # --- The worker checks in on site (the browser's location goes with it) and checks out.
    worker_page.goto(base + f"/jobs/orders/{order.pk}/")
    worker_page.get_by_role("button", name="到岗签到").click()
    expect(worker_page.locator("#order-status")).to_have_text("已签到")
    expect(worker_page.locator(".timeline")).to_contain_text("距工作地点约")
    order.refresh_from_db()
    assert order.status == Order.Status.CHECKED_IN
    worker_page.screenshot(path=artifacts / "jobs_checked_in.png", full_page=True)
    # Before the start there is nothing to report: the page says so instead of a form.
    expect(worker_page.locator("#check-out-not-yet")).to_contain_text("还没到开工时间，开工后才能签退")
    started(order)  # the shift begins (moved into the past; no clock frozen)
    worker_page.reload()
    # More than the 3-hour shift is the employer's to confirm, not the worker's to report.
    worker_page.get_by_label("干了多少（小时）").fill("3.5")
    worker_page.get_by_role("button", name="签退").click()
    expect(worker_page.get_by_text("最多可填报3小时")).to_be_visible()
    expect(worker_page.locator("#order-status")).to_have_text("已签到")
    worker_page.get_by_label("干了多少（小时）").fill("3")
    worker_page.get_by_role("button", name="签退").click()
    expect(worker_page.locator("#order-status")).to_have_text("已签退")

    # --- The employer confirms the worker's figure, and the half hour they stayed on.
    employer.reload()
    expect(employer.get_by_label("确认数量（小时）")).to_have_value("3")
    employer.get_by_label("确认数量（小时）").fill("3.5")
    employer.screenshot(path=artifacts / "jobs_confirm.png", full_page=True)
    employer.get_by_role("button", name="确认完工").click()
    expect(employer.locator("#order-status")).to_have_text("已完工")
    expect(employer.locator(".facts")).to_contain_text("122.5 元")

    # --- Both rate.
    employer.get_by_label("★★★★★ 很满意").check()
    employer.get_by_label("说几句（可不填）").fill("干活细致")
    employer.screenshot(path=artifacts / "jobs_rate_form.png", full_page=True)
    employer.get_by_role("button", name="提交评价").click()
    expect(employer.get_by_text("谢谢您的评价")).to_be_visible()
    worker_page.reload()
    expect(worker_page.locator("#order-status")).to_have_text("已完工")
    worker_page.get_by_label("★★★★ 满意").check()
    worker_page.get_by_role("button", name="提交评价").click()
    expect(worker_page.get_by_text("谢谢您的评价")).to_be_visible()
    expect(worker_page.locator("#rate")).to_contain_text("对方给您")
    worker_page.screenshot(path=artifacts / "jobs_completed_worker.png", full_page=True)
    employer.screenshot(path=artifacts / "jobs_completed_employer.png", full_page=True)

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.amount_fen == 12250
    assert set(Rating.objects.filter(order=order).values_list("direction", "stars")) == {
        ("e2w", 5),
        ("w2e", 4),
    }

    # --- The contract page, for the record.
    worker_page.get_by_role("link", name="电子协议").first.click()
    expect(worker_page.get_by_text("零工服务协议")).to_be_visible()
    worker_page.screenshot(path=artifacts / "jobs_contract.png", full_page=True)
    assert worker.pk == order.worker_id


def test_refusals_are_plain_and_lead_somewhere(live_server, new_page, artifacts):
    """A worker without real-name is told why and where to fix it; a bad filter is explained, not a 500."""
    TradeFactory(name="保洁", category="housekeeping", risk_class=2)
    employer = EmployerFactory(name="青溪物业服务有限公司")
    post = PostFactory(employer=employer, title="家庭保洁钟点工", pay_fen=3500, pay_unit="hour")
    UserFactory(phone=WORKER_PHONE, name="孙新人", role="seeker")
    page = new_page()
    login(page, live_server.url, WORKER_PHONE)
    page.goto(live_server.url + f"/jobs/{post.pk}/")
    page.get_by_role("button", name="抢单").click()
    expect(page.get_by_role("alert")).to_contain_text("请先完成实名认证再接单")
    page.locator("#claim").screenshot(path=artifacts / "jobs_refused_realname.png")
    page.get_by_role("link", name="去实名认证").click()
    expect(page.get_by_role("heading", name="实名认证", exact=True)).to_be_visible()

    page.goto(live_server.url + "/jobs/?q=保洁&pay_min=-5&sort=cheapest")
    expect(page.get_by_role("alert")).to_contain_text("报酬必须大于0")
    expect(page.get_by_role("alert")).to_contain_text("排序方式不正确")
    expect(page.locator(".post-card")).to_contain_text("家庭保洁钟点工")
    page.screenshot(path=artifacts / "jobs_board_bad_filter.png", full_page=True)
