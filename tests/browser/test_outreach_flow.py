"""Outreach in a real browser: a worker signs up for a free course and cancels; station staff record a
follow-up call on the page (the training wish lands in the worker's training needs)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ServicePoint, User
from outreach import services
from outreach.models import Enrollment, FollowUp, TrainingNeed
from tests.browser.conftest import pass_second_factor
from tests.factories import AreaFactory, ServicePointFactory, TradeFactory, UserFactory, verified_seeker
from tests.outreach.conftest import completed_order, make_course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
WORKER_PHONE = "13600000061"
STAFF_PHONE = "13900000061"


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def test_signup_cancel_and_a_followup_call(live_server, new_page, artifacts):
    area = AreaFactory(name="青溪区", code="350186000000", level="district")
    station = ServicePointFactory(name="东岭村零工驿站", kind=ServicePoint.Kind.VILLAGE_STATION, area=area)
    trade = TradeFactory(name="家政服务")
    welding = TradeFactory(name="电焊")
    course = make_course(station, trade=trade, seats=3)
    worker = verified_seeker(phone=WORKER_PHONE, name="赵洪亮")
    User.objects.filter(pk=worker.pk).update(service_point=station)

    page = new_page()
    login(page, live_server.url, WORKER_PHONE)
    page.goto(live_server.url + "/outreach/trainings/")
    page.get_by_role("link", name=course.title).click()
    page.get_by_role("button", name="我要报名").click()
    expect(page.get_by_text("报名成功")).to_be_visible()
    page.screenshot(path=artifacts / "outreach_my_trainings.png", full_page=True)
    page.get_by_role("button", name="取消报名").click()
    expect(page.get_by_text("已取消报名，名额已退回。")).to_be_visible()
    assert Enrollment.objects.get(worker=worker).status == Enrollment.Status.CANCELLED

    completed_order(
        User.objects.get(pk=worker.pk), trade=trade, completed_at=timezone.now() - dt.timedelta(days=5)
    )
    services.followups_create_due()
    staff = UserFactory(phone=STAFF_PHONE, name="周站长", role="staff", is_staff=True, service_point=station)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_followup", "change_followup"]))

    desk = new_page()
    login(desk, live_server.url, STAFF_PHONE)
    pass_second_factor(desk, staff)
    desk.goto(live_server.url + "/outreach/staff/followups/")
    desk.get_by_role("link", name="赵洪亮").click()
    desk.get_by_label("联系上了", exact=True).check()
    desk.get_by_label("在找新活").check()
    desk.get_by_label("4分").check()
    desk.locator("input[name=wage_paid_in_full][value=yes]").check()
    desk.get_by_label("想参加技能培训").check()
    desk.get_by_label("想学什么").select_option(label="电焊")
    desk.screenshot(path=artifacts / "outreach_followup_call.png", full_page=True)
    desk.get_by_role("button", name="保存回访记录").click()
    expect(desk.get_by_text("回访已记录。")).to_be_visible()
    followup = FollowUp.objects.get(worker=worker)
    assert (followup.status, followup.satisfaction, followup.outcome) == ("done", 4, "seeking")
    assert TrainingNeed.objects.get(worker=worker).trade == welding
