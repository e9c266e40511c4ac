"""The whole real-name walk in a real browser: register by SMS code → submit real-name → staff approve it in
the admin → the user sees 已实名."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import RealName, User
from tests import phones
from tests.browser.conftest import pass_second_factor
from tests.factories import id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13912340001"
STAFF_PHONE = "13900000001"
STAFF_PASSWORD = "Staff-pass-2026"


def latest_code(phone: str) -> str:
    return phones.code(phone)


def test_register_realname_and_staff_approval(live_server, new_page, artifacts):
    number = id_number(31)

    # A visitor sees what the platform is.
    worker = new_page()
    worker.goto(live_server.url + "/")
    expect(worker.get_by_role("link", name="注册", exact=True).first).to_be_visible()
    worker.screenshot(path=artifacts / "home_anonymous.png", full_page=True)

    # Registers with an SMS code (htmx swaps in the "sent" line without reloading the form).
    worker.goto(live_server.url + "/register/")
    worker.get_by_label("手机号").fill(PHONE)
    worker.get_by_label("您的称呼").fill("赵洪亮")
    worker.evaluate("window.notReloaded = true")
    worker.get_by_role("button", name="获取验证码").click()
    expect(worker.locator("#code-status-register")).to_contain_text("验证码已发到 139****0001")
    assert worker.evaluate("window.notReloaded === true"), "htmx should swap the status line in place"
    expect(worker.get_by_label("您的称呼")).to_have_value("赵洪亮")
    worker.get_by_label("短信验证码").fill(latest_code(PHONE))
    worker.screenshot(path=artifacts / "register.png", full_page=True)
    worker.locator("button.btn-primary", has_text="注册").click()
    expect(worker.locator(".status-big")).to_have_text("未实名")
    worker.screenshot(path=artifacts / "home.png", full_page=True)

    # Submits the real-name form; sees 审核中 and only the masked number.
    worker.get_by_role("link", name="去实名认证").click()
    worker.get_by_label("姓名").fill("赵洪亮")
    worker.get_by_label("身份证号").fill(number)
    worker.get_by_role("button", name="提交").click()
    expect(worker.locator(".status-big")).to_have_text("审核中")
    expect(worker.get_by_text("请携带身份证到服务网点核验")).to_be_visible()
    assert number not in worker.content()
    worker.screenshot(path=artifacts / "realname_pending.png", full_page=True)
    record = RealName.objects.get(user__phone=PHONE)

    # Hall staff approve it from the admin changelist with the bulk action.
    admin_user = User.objects.create_superuser(STAFF_PHONE, STAFF_PASSWORD, name="周工作")
    staff = new_page()
    staff.set_viewport_size({"width": 1280, "height": 900})
    staff.goto(live_server.url + "/admin/login/?next=/admin/accounts/realname/")
    staff.locator("input[name=username]").fill(STAFF_PHONE)
    staff.locator("input[name=password]").fill(STAFF_PASSWORD)
    staff.locator("input[type=submit]").click()
    pass_second_factor(staff, admin_user)
    staff.locator(f"input[name=_selected_action][value='{record.pk}']").check()
    staff.locator("select[name=action]").select_option("approve_selected")
    staff.locator("button[name=index]").click()
    staff.wait_for_load_state()
    record.refresh_from_db()
    assert record.status == RealName.Status.VERIFIED

    # The worker reloads and sees 已实名.
    worker.reload()
    expect(worker.locator(".status-big")).to_have_text("已实名")
    expect(worker.get_by_text(record.id_masked)).to_be_visible()
    assert number not in worker.content()
    worker.screenshot(path=artifacts / "realname_verified.png", full_page=True)

    # And the login page looks right too (after logging out with the header button).
    worker.get_by_role("button", name="退出").click()
    worker.goto(live_server.url + "/login/")
    expect(worker.get_by_role("button", name="获取验证码")).to_be_visible()
    worker.screenshot(path=artifacts / "login.png", full_page=True)
