"""A mediation case extended with both parties' agreement, in a real browser: the mediator asks for a new
deadline with a reason → the worker and the employer each confirm with the SMS code on their phone → the
case shows the new deadline and the event, and the reminder follows the new date."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ServicePoint, User
from disputes import services as dispute_services
from disputes.models import Case, Extension
from jobs import services as job_services
from tests import phones
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

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
BOSS_PHONE = "13700000061"
WORKER_PHONE = "13600000061"
STAFF_PHONE = "13900000061"
MEDIATOR_PHONE = "13900000062"


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def agree(page, base: str, case: Case, phone: str) -> None:
    page.goto(base + f"/disputes/{case.pk}/")
    extension = page.locator("#extension")
    expect(extension).to_contain_text("等待工程验收结果")
    extension.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status").filter(has_text="验证码已发到")).to_be_visible()
    page.locator("#extension-agree").get_by_label("短信验证码").fill(phones.code(phone))
    page.get_by_role("button", name="同意延期").click()
    expect(page.get_by_text("您已同意延期")).to_be_visible()


def test_extension_agreed_by_both_parties(live_server, new_page, artifacts):
    base = live_server.url
    street = AreaFactory(name="西城街道", code="350186001000", level="street")
    market = ServicePoint.objects.create(
        name="青溪区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=street
    )
    staff = UserFactory(phone=STAFF_PHONE, name="周受理", role="staff", is_staff=True, service_point=market)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["accept_case", "add_case", "view_case"])
    )
    mediator = UserFactory(phone=MEDIATOR_PHONE, name="吴调解", role="mediator")
    boss = UserFactory(phone=BOSS_PHONE, name="陈老板", role="employer")
    employer = EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")
    worker = verified_seeker(phone=WORKER_PHONE, name="赵洪亮")
    post = PostFactory(employer=employer, trade=TradeFactory(name="小工", category="construction", risk_class=3),
                       area=street, title="工地小工一天", slots=1)  # fmt: skip
    order = job_services.claim_create(post=post, worker=worker).order
    with time_machine.travel(order.starts_at, tick=False):
        job_services.order_check_in(order=order, worker=worker)
    with time_machine.travel(order.ends_at, tick=False):
        job_services.order_check_out(order=order, worker=worker, quantity="1")
    case = dispute_services.case_file(actor=worker, order=order, category="wage_arrears",
                                      description="干完活老板说下个月再给，电话也不接", amount_claimed_fen=20000)  # fmt: skip
    dispute_services.case_accept(case=case, actor=staff, mediator=mediator)
    dispute_services.session_schedule(case=case, actor=mediator, starts_at=timezone.now() + dt.timedelta(days=1),
                                      room="纠纷调解室", attendees="双方当事人")  # fmt: skip
    case.refresh_from_db()
    old_deadline = case.deadline_at

    # --- The mediator asks for ten more days.
    mediator_page = new_page()
    login(mediator_page, base, MEDIATOR_PHONE)
    pass_second_factor(mediator_page, User.objects.get(phone=MEDIATOR_PHONE))
    mediator_page.goto(base + f"/disputes/desk/{case.pk}/")
    mediator_page.locator("#extension summary").click()
    new_deadline = timezone.localtime(old_deadline + dt.timedelta(days=10))
    mediator_page.get_by_label("新的调解期限").fill(new_deadline.strftime("%Y-%m-%dT%H:%M"))
    mediator_page.get_by_label("延期理由").fill("双方同意等待工程验收结果后再调解")
    mediator_page.locator("#extension").get_by_role("button", name="发给双方确认").click()
    expect(mediator_page.locator("#extension")).to_contain_text("等待双方确认")

    # --- Both parties confirm with their SMS codes.
    worker_page = new_page()
    login(worker_page, base, WORKER_PHONE)
    expect(worker_page.get_by_role("button", name="退出")).to_be_visible()
    agree(worker_page, base, case, WORKER_PHONE)
    boss_page = new_page()
    login(boss_page, base, BOSS_PHONE)
    expect(boss_page.get_by_role("button", name="退出")).to_be_visible()
    agree(boss_page, base, case, BOSS_PHONE)
    boss_page.screenshot(path=artifacts / "disputes_extension_agreed.png", full_page=True)

    # --- The case shows the new deadline and the event; the mediator sees it too.
    worker_page.reload()
    expect(worker_page.locator("#extended")).to_contain_text("已延期一次")
    expect(worker_page.locator(".timeline")).to_contain_text("经双方同意，调解期限延长至")
    expect(worker_page.locator(".facts")).to_contain_text(f"{new_deadline.month}月{new_deadline.day}日")
    mediator_page.reload()
    expect(mediator_page.locator("#extension")).to_contain_text("已延期一次")

    case.refresh_from_db()
    assert Extension.objects.get().status == "applied" and case.deadline_at > old_deadline
    assert case.reminded_near_at is None
    # The reminder follows the new date.
    assert dispute_services.cases_check_deadlines(now=old_deadline - dt.timedelta(days=1))["near"] == 0
    assert dispute_services.cases_check_deadlines(now=case.deadline_at - dt.timedelta(days=1))["near"] == 1
