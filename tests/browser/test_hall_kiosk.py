"""The kiosk (求职机) in a real browser, on a touch-screen-sized page: phone and code on the on-screen pad,
sign in, pick a matched post, confirm — counted taps (pad keys apart) stay within 5 — and the confirmation
SMS is queued. Idle, the kiosk goes back to the start screen and ends the session."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Area, ServicePoint
from hall.models import KioskSession
from jobs.models import Claim
from notifications.models import Message
from tests import phones
from tests.factories import (
    AreaFactory,
    EmployerFactory,
    PostFactory,
    TradeFactory,
    UserFactory,
    verified_seeker,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "13600000051"


def setup_hall():
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    street = AreaFactory(name="东城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    point = ServicePoint.objects.create(
        name="东城零工驿站", kind=ServicePoint.Kind.STREET_MARKET, area=street, lat=28.9, lng=120.03
    )
    trade = TradeFactory(name="搬运", category="logistics", risk_class=2)
    employer = EmployerFactory(created_by=UserFactory(phone="13700000051", role="employer"), name="顺达搬家")
    post = PostFactory(employer=employer, trade=trade, area=street, district=district, title="搬家小工 招2人")
    worker = verified_seeker(phone=PHONE, name="赵洪亮")
    worker.worker_profile.wanted_trades.set([trade])
    return point, post, worker


def pad_type(page, digits: str) -> int:
    for d in digits:
        page.locator(f'.pad-key[data-key="{d}"]').click()
    return len(digits)


def test_kiosk_sign_in_to_confirmed_claim_in_at_most_five_taps(live_server, browser, artifacts):
    point, post, worker = setup_hall()
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/hall/kiosk/{point.pk}/")
    taps = pad = 0

    pad += pad_type(page, PHONE)
    expect(page.locator("#id_phone")).to_have_value(PHONE)
    page.get_by_role("button", name="获取验证码").click()
    taps += 1
    expect(page.get_by_role("heading", name="验证码已发到 136****0051")).to_be_visible()
    code = phones.code(PHONE)
    pad += pad_type(page, code)
    page.get_by_role("button", name="登录").click()
    taps += 1
    expect(page.get_by_text("搬家小工 招2人")).to_be_visible()
    page.screenshot(path=artifacts / "hall_kiosk_posts.png")
    page.get_by_role("link", name="抢这个").click()
    taps += 1
    page.get_by_role("button", name="确认抢单").click()
    taps += 1
    expect(page.get_by_role("heading", name="抢单成功")).to_be_visible()
    expect(page.get_by_text("确认短信已发到 136****0051")).to_be_visible()
    page.screenshot(path=artifacts / "hall_kiosk_done.png")

    assert taps <= 5, taps
    assert pad == 11 + 6
    assert Claim.objects.get(worker=worker, post=post).status == Claim.Status.CONFIRMED
    assert Message.objects.filter(phone=PHONE, template="claim_confirmed", channel="sms").count() == 1

    page.get_by_role("button", name="完成").click()
    expect(page.get_by_text("已退出，欢迎再来")).to_be_visible()
    assert KioskSession.objects.get().state == KioskSession.State.ENDED
    context.close()


def test_kiosk_times_out_back_to_the_start(live_server, browser, settings):
    settings.HALL_KIOSK_TIMEOUT_SECONDS = 2
    point, _post, _worker = setup_hall()
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/hall/kiosk/{point.pk}/")
    pad_type(page, PHONE)
    page.get_by_role("button", name="获取验证码").click()
    code = phones.code(PHONE)
    pad_type(page, code)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("搬家小工 招2人")).to_be_visible()
    # Nobody touches the screen: back to the start, session ended.
    expect(page.get_by_text("长时间没有操作，已自动退出")).to_be_visible(timeout=8000)
    expect(page.get_by_role("button", name="获取验证码")).to_be_visible()
    session = KioskSession.objects.get()
    assert session.state == KioskSession.State.ENDED and session.end_reason == "timeout"
    context.close()


_FILL = """() => {
  const main = document.querySelector('.kiosk-main'), help = document.querySelector('.kiosk-help');
  const bottoms = [...main.querySelectorAll('*')].map((el) => el.getBoundingClientRect().bottom);
  const key = document.querySelector('.pad-key').getBoundingClientRect();
  return {content: Math.max(...bottoms), helpTop: help.getBoundingClientRect().top,
          helpBottom: help.getBoundingClientRect().bottom, height: document.documentElement.scrollHeight,
          width: document.documentElement.scrollWidth, key: key.height};
}"""


def test_a_portrait_kiosk_is_filled_to_its_foot_and_a_landscape_one_fits(live_server, browser, artifacts):
    point, _, _ = setup_hall()
    point.phone, point.opening_hours = "0598-6200188", "周一至周六 7:00–17:30"
    point.save(update_fields=["phone", "opening_hours"])
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/hall/kiosk/{point.pk}/")
    tall = page.evaluate(_FILL)
    page.screenshot(path=artifacts / "hall_kiosk_1080x1920.png")
    # One screen, no scrolling; the help panel at the very foot; at most a sixth of the screen left empty
    # between the form and it; the pad's keys large for the large screen.
    assert tall["height"] <= 1920 and tall["width"] <= 1080, tall
    assert tall["helpBottom"] >= 1919 and tall["helpTop"] - tall["content"] < 1920 / 6, tall
    assert tall["key"] >= 100, tall
    expect(page.locator(".kiosk-help")).to_contain_text("服务电话 0598-6200188")

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.reload()
    wide = page.evaluate(_FILL)
    page.screenshot(path=artifacts / "hall_kiosk_1920x1080.png")
    assert wide["width"] <= 1920 and wide["helpBottom"] >= wide["height"] - 1, wide
    context.close()
