"""A wage-arrears case in a real browser, on phone-sized screens: the worker files from the order (with a
photo of the IOU) → hall staff accept and assign a mediator → the mediator schedules a session and drafts
the agreement → both parties confirm with SMS codes (read from the outbox) → the mediator signs → the
escrow is released to the worker and the case shows the wages recovered."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.models import ServicePoint, User
from disputes.models import Case
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
from wallet import ledger

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
BOSS_PHONE = "13700000041"
WORKER_PHONE = "13600000041"
STAFF_PHONE = "13900000041"
MEDIATOR_PHONE = "13900000042"


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def sms_code(phone: str) -> str:
    return phones.code(phone)


def confirm_agreement(page, phone: str) -> None:
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status").filter(has_text="验证码已发到")).to_be_visible()
    page.get_by_label("短信验证码").fill(sms_code(phone))
    page.get_by_role("button", name="同意并确认").click()
    expect(page.get_by_text("您已确认调解协议书")).to_be_visible()


def iou_photo(tmp_path):
    path = tmp_path / "欠条.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (240, 240, 230)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_wage_arrears_filed_mediated_agreed_and_paid(live_server, new_page, artifacts, tmp_path):
    base = live_server.url
    street = AreaFactory(name="西城街道", code="350186001000", level="street")
    trade = TradeFactory(name="小工", category="construction", risk_class=3)
    boss = UserFactory(phone=BOSS_PHONE, name="陈老板", role="employer")
    employer = EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")
    worker = verified_seeker(phone=WORKER_PHONE, name="赵洪亮")
    market = ServicePoint.objects.create(
        name="青溪区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=street
    )
    staff = UserFactory(phone=STAFF_PHONE, name="周受理", role="staff", is_staff=True, service_point=market)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["accept_case", "add_case", "view_case"])
    )
    UserFactory(phone=MEDIATOR_PHONE, name="吴调解", role="mediator")
    post = PostFactory(
        employer=employer, trade=trade, area=street, district=street, title="工地小工一天", slots=1
    )
    order = job_services.claim_create(post=post, worker=worker).order
    with time_machine.travel(order.starts_at, tick=False):
        job_services.order_check_in(order=order, worker=worker)
    with time_machine.travel(order.ends_at, tick=False):
        job_services.order_check_out(order=order, worker=worker, quantity="1")
    escrow = ledger.order_escrow(order)
    escrow.refresh_from_db()
    assert escrow.balance_fen == 20000

    # --- The worker files a wage-arrears case from the order, with a photo of the IOU.
    worker_page = new_page()
    login(worker_page, base, WORKER_PHONE)
    worker_page.goto(base + f"/jobs/orders/{order.pk}/")
    expect(worker_page.locator("#order-status")).to_have_text("已签退")
    worker_page.goto(base + f"/disputes/orders/{order.pk}/new/")
    worker_page.get_by_label("拖欠工资").check()
    worker_page.get_by_label("请求金额（元）").fill("200")
    worker_page.get_by_label("发生了什么").fill("11月干了一天小工，老板说下个月再给，电话也不接")
    worker_page.get_by_label("证据照片或PDF（可不传）").set_input_files(str(iou_photo(tmp_path)))
    worker_page.screenshot(path=artifacts / "disputes_file.png", full_page=True)
    worker_page.get_by_role("button", name="提交调解申请").click()
    expect(worker_page.locator("#case-status")).to_have_text("已申请")
    expect(worker_page.locator("#evidence")).to_contain_text("欠条.jpg")
    case = Case.objects.get()
    order.refresh_from_db()
    assert order.status == "disputed"

    # --- Hall staff accept the case and assign the mediator.
    staff_page = new_page()
    login(staff_page, base, STAFF_PHONE)
    pass_second_factor(staff_page, User.objects.get(phone=STAFF_PHONE))
    staff_page.goto(base + "/disputes/staff/?status=filed")
    staff_page.get_by_role("link", name=f"{case.number} · 拖欠工资").click()
    staff_page.get_by_label("分派调解员").select_option(label="吴调解")
    staff_page.screenshot(path=artifacts / "disputes_staff_accept.png", full_page=True)
    staff_page.get_by_role("button", name="受理并分派").click()
    expect(staff_page.locator("#case-status")).to_have_text("已受理")

    # --- The mediator schedules a session and drafts the agreement.
    mediator_page = new_page()
    login(mediator_page, base, MEDIATOR_PHONE)
    pass_second_factor(mediator_page, User.objects.get(phone=MEDIATOR_PHONE))
    mediator_page.goto(base + "/disputes/mediator/")
    expect(mediator_page.locator("#open-cases")).to_contain_text(case.number)
    mediator_page.get_by_role("link", name=f"{case.number} · 拖欠工资").click()
    expect(mediator_page.locator("#parties")).to_contain_text("赵**")  # masked
    when = timezone.localtime() + dt.timedelta(days=1)
    mediator_page.get_by_label("调解时间").fill(when.strftime("%Y-%m-%dT%H:%M"))
    mediator_page.get_by_label("地点").fill("一楼纠纷调解室")
    mediator_page.get_by_role("button", name="安排并短信通知双方").click()
    expect(mediator_page.locator("#case-status")).to_have_text("调解中")
    mediator_page.get_by_label("基本事实").fill("劳动者按约完成一天小工，用工方未确认完工、未付报酬。")
    mediator_page.get_by_label("争议事项").fill("一天工资200元")
    mediator_page.get_by_label("用工方支付劳动者（元）").fill("200")
    mediator_page.get_by_role("button", name="发给双方确认").click()
    expect(mediator_page.locator("#agreement")).to_contain_text("待双方确认")
    mediator_page.screenshot(path=artifacts / "disputes_mediator_desk.png", full_page=True)

    # --- Both parties confirm with SMS codes.
    worker_page.reload()
    expect(worker_page.locator("#next-session")).to_contain_text("一楼纠纷调解室")
    expect(worker_page.locator("#agreement")).to_contain_text("人民调解协议书")
    confirm_agreement(worker_page, WORKER_PHONE)
    boss_page = new_page()
    login(boss_page, base, BOSS_PHONE)
    boss_page.goto(base + "/disputes/")
    boss_page.get_by_role("link", name=f"{case.number} · 拖欠工资").click()
    confirm_agreement(boss_page, BOSS_PHONE)
    boss_page.screenshot(path=artifacts / "disputes_party_confirmed.png", full_page=True)

    # --- The mediator signs: the escrow goes to the worker.
    mediator_page.reload()
    mediator_page.get_by_role("button", name="调解员签名，协议生效").click()
    expect(mediator_page.locator("#case-status")).to_have_text("调解成功")
    worker_page.reload()
    expect(worker_page.locator("#case-status")).to_have_text("调解成功")
    expect(worker_page.locator("#recovered")).to_contain_text("200 元")
    worker_page.screenshot(path=artifacts / "disputes_recovered.png", full_page=True)

    case.refresh_from_db()
    order.refresh_from_db()
    escrow.refresh_from_db()
    worker_wallet = ledger.worker_account(worker)
    worker_wallet.refresh_from_db()
    assert case.status == "agreed" and case.recovered_fen == 20000
    assert order.status == "completed" and order.paid_fen == 20000
    assert escrow.balance_fen == 0 and worker_wallet.balance_fen == 20000
