"""活找人 in a real browser: an employer publishes a post through the page; a seeker who wants that trade
sees it under 为你推荐 with its reason, and a recommendation SMS was queued for them (they agreed to
recommendations); a seeker who did not agree got no SMS (an in-app message only)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Area
from jobs.models import Post
from notifications.models import Message
from notifications.services import preferences_update
from tests.browser.people import login, seeker
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOSS_PHONE = "13700000031"
AGREED_PHONE = "13600000031"
SILENT_PHONE = "13600000032"


def test_published_post_is_recommended_and_pushed(live_server, new_page, artifacts):
    base = live_server.url
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    street = AreaFactory(name="西城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    cleaning = TradeFactory(name="保洁", category="housekeeping", risk_class=2)
    boss = UserFactory(phone=BOSS_PHONE, name="陈老板", role="employer")
    EmployerFactory(created_by=boss, name="青溪物业服务有限公司")
    agreed = seeker(AGREED_PHONE, "赵洪亮", trade=cleaning, street=street)
    preferences_update(user=agreed, marketing_consent=True)
    silent = seeker(SILENT_PHONE, "钱秀英", trade=cleaning, street=street)
    start = timezone.localtime() + dt.timedelta(days=1)

    employer = new_page()
    login(employer, base, BOSS_PHONE)
    employer.get_by_role("link", name="发布招工").first.click()
    employer.get_by_label("工种").select_option(label="保洁")
    employer.get_by_label("标题", exact=True).fill("小区开荒保洁 招2人")
    employer.get_by_label("报酬（元）").fill("35")
    employer.get_by_label("按什么算").select_option(label="小时")
    employer.get_by_label("招几个人").fill("2")
    employer.get_by_label("每人预计数量").fill("3")
    employer.get_by_label("开工时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    employer.get_by_label("收工时间").fill((start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    employer.get_by_label("工作地区").select_option(label="青溪区 · 西城街道")
    employer.get_by_label("详细地址").fill("幸福小区3栋")
    employer.get_by_role("button", name="立即发布").click()
    expect(employer.locator(".status-big")).to_have_text("招工中")
    post = Post.objects.get(title="小区开荒保洁 招2人")

    # The push went out when the post opened: an SMS for the seeker who agreed, none for the other.
    sms = Message.objects.filter(template="post_recommended", channel="sms")
    assert [m.phone for m in sms] == [AGREED_PHONE]
    assert "小区开荒保洁" in sms.get().body and re.search(r"/r/[\w-]{11}", sms.get().body)
    assert not Message.objects.filter(phone=SILENT_PHONE, channel="sms").exists()
    assert Message.objects.filter(
        recipient=silent, channel="inapp", template="post_recommended_inapp"
    ).exists()

    # The employer sees both as recommended workers, masked.
    employer.goto(f"{base}/matching/posts/{post.pk}/workers/")
    expect(employer.get_by_role("heading", name="推荐工人")).to_be_visible()
    expect(employer.locator(".worker-card")).to_have_count(2)
    expect(employer.get_by_text("136****0031")).to_be_visible()

    worker = new_page()
    login(worker, base, AGREED_PHONE)
    worker.goto(base + "/matching/")
    expect(worker.get_by_role("heading", name="为你推荐")).to_be_visible()
    card = worker.locator(".match-card", has_text="小区开荒保洁 招2人")
    expect(card).to_be_visible()
    expect(card.locator(".match-reason")).to_contain_text("想干保洁")
    worker.screenshot(path=artifacts / "matching_for_you.png", full_page=True)
    card.get_by_role("link").first.click()
    expect(worker.get_by_role("heading", name="小区开荒保洁 招2人")).to_be_visible()
