"""我的消息 and 消息设置 in a real browser, phone-sized: a seeker agrees to recommendations in plain words,
reads her messages and marks them read; she never sees anyone else's."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from notifications.models import Preference
from notifications.services import message_queue
from tests.factories import SeekerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def test_seeker_opts_in_and_reads_her_messages(live_server, new_page, artifacts):
    base = live_server.url
    alice = SeekerFactory(phone="13800000041", name="李爱丽")
    bob = SeekerFactory(phone="13800000042", name="王博")
    for key, who, post in (("a1", alice, "小区保洁"), ("a2", alice, "搬家帮工"), ("b1", bob, "仓库理货")):
        message_queue(event_key=key, template="order_settled", params={"post": post, "amount": "150.00"},
                      recipient=who, channel="inapp")  # fmt: skip

    page = new_page()
    login(page, base, alice.phone)
    page.goto(base + "/notifications/settings/")
    expect(page.get_by_text("岗位推荐是可选的")).to_be_visible()
    consent = page.get_by_label("我同意接收岗位推荐")
    expect(consent).not_to_be_checked()
    consent.check()
    expect(page.get_by_label("用短信发岗位推荐")).to_be_checked()  # switches on; consent decides
    page.get_by_label("用短信通知培训、招聘会").uncheck()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("设置已保存")).to_be_visible()
    expect(page.get_by_text("您于")).to_be_visible()
    pref = Preference.objects.get(user=alice)
    assert pref.marketing_consent and pref.sms_recommendations and not pref.sms_activities
    page.screenshot(path=str(artifacts / "notifications-preferences.png"), full_page=True)

    page.goto(base + "/notifications/")
    expect(page.locator(".notif-count")).to_have_text("2条未读")  # the words are for screen readers only
    expect(page.get_by_text("小区保洁")).to_be_visible()
    expect(page.get_by_text("仓库理货")).to_have_count(0)  # bob's
    page.screenshot(path=str(artifacts / "notifications-inbox.png"), full_page=True)
    page.get_by_role("button", name="标为已读", exact=True).first.click()
    expect(page.locator(".notif-count")).to_have_text("1条未读")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.get_by_text("已将 1 条消息标为已读")).to_be_visible()
    expect(page.locator(".notif-count")).to_have_count(0)
