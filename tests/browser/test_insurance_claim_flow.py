"""An accident claim from filing to payout, in a real browser: the insured worker reports with a photo →
hall staff start the review and send it to the insurer (the local insurer backend) → the insurer asks for
more documents (the worker gets an SMS and adds an invoice) → the insurer pays → the worker sees each status
with its date and the money in the wallet; staff settle the day's premiums to the insurer; the ledger
reconciles."""

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
from insurance import services as insurance_services
from insurance.models import AccidentClaim, Policy, Remittance
from insurance.payable import payable_balance
from jobs import services as job_services
from notifications.models import Message
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
from wallet.selectors import reconcile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
WORKER_PHONE = "13600000051"
STAFF_PHONE = "13900000051"


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def photo(tmp_path, name: str):
    path = tmp_path / name
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 220, 240)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def admin_action(page, base: str, claim: AccidentClaim, action: str) -> None:
    page.goto(base + "/admin/insurance/accidentclaim/")
    page.locator(f"input[name=_selected_action][value='{claim.pk}']").check()
    page.locator("select[name=action]").select_option(action)
    page.get_by_role("button", name="执行").click()


def test_claim_from_filing_to_payout(live_server, new_page, artifacts, tmp_path):
    base = live_server.url
    street = AreaFactory(name="西城街道", code="350186001000", level="street")
    market = ServicePoint.objects.create(
        name="青溪区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET, area=street
    )
    staff = UserFactory(phone=STAFF_PHONE, name="周理赔", role="staff", is_staff=True, service_point=market)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="insurance",
            codename__in=[
                "view_policy",
                "view_accidentclaim",
                "review_accidentclaim",
                "change_accidentclaim",
                "view_remittance",
                "change_remittance",
            ],
        )
    )
    worker = verified_seeker(phone=WORKER_PHONE, name="赵洪亮")
    employer = EmployerFactory(name="马架龙建筑劳务公司", funds=1_000_000)
    trade = TradeFactory(name="架子工", category="construction", risk_class=4)  # cover required: 6 yuan
    post = PostFactory(employer=employer, trade=trade, area=street, title="外墙脚手架搭设", slots=1)
    order = job_services.claim_create(post=post, worker=worker).order
    insurance_services.policy_issue(policy_id=order.policy.pk)
    with time_machine.travel(order.starts_at, tick=False):
        job_services.order_check_in(order=order, worker=worker)
    # The shift began three hours ago (the check-in above, moved to today so an accident can be reported now).
    began = timezone.now() - dt.timedelta(hours=3)
    Policy.objects.filter(order=order).update(cover_from=began)

    # --- The worker reports the accident with a photo.
    worker_page = new_page()
    login(worker_page, base, WORKER_PHONE)
    expect(worker_page.get_by_role("button", name="退出")).to_be_visible()
    worker_page.goto(base + f"/insurance/orders/{order.pk}/claims/new/")
    accident = timezone.localtime() - dt.timedelta(hours=1)
    worker_page.get_by_label("出险时间").fill(accident.strftime("%Y-%m-%dT%H:%M"))
    worker_page.get_by_label("出险地点").fill("工地三号楼二层")
    worker_page.get_by_label("事故经过和受伤情况").fill("搭架时从二层踩空摔下，左腿骨折，送市第一医院")
    worker_page.get_by_label("理赔材料").set_input_files(str(photo(tmp_path, "现场照片.jpg")))
    worker_page.get_by_role("button", name="提交报案").click()
    expect(worker_page.locator("#claim-status")).to_have_text("已报案")
    claim = AccidentClaim.objects.get()

    # --- Staff review it and send it to the insurer.
    staff_page = new_page()
    login(staff_page, base, STAFF_PHONE)
    pass_second_factor(staff_page, User.objects.get(phone=STAFF_PHONE))
    admin_action(staff_page, base, claim, "start_review")
    expect(staff_page.locator(".messagelist")).to_contain_text("已进入审核")
    admin_action(staff_page, base, claim, "forward")
    staff_page.get_by_label("审核意见").fill("材料齐全，报保险公司")
    staff_page.get_by_role("button", name="确认报保险公司").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("已报保险公司")
    claim.refresh_from_db()
    assert claim.status == "forwarded" and claim.insurer_claim_no.startswith("LC")

    # --- The insurer (local backend, played from the console) asks for the invoice.
    admin_action(staff_page, base, claim, "local_insurer")
    staff_page.get_by_label("保险公司处理结果").select_option(label="补材料")
    staff_page.get_by_label("说明（补材料的要求 / 拒赔原因）").fill("请补充医疗费用发票")
    staff_page.get_by_role("button", name="确认模拟保险公司处理").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("需补充材料")
    assert Message.objects.filter(recipient=worker, template="claim_need_documents", channel="sms").exists()

    worker_page.goto(base + f"/insurance/claims/{claim.pk}/")
    expect(worker_page.locator("#documents-needed")).to_contain_text("请补充医疗费用发票")
    worker_page.get_by_label("补充材料").set_input_files(str(photo(tmp_path, "发票.jpg")))
    worker_page.get_by_role("button", name="提交补充材料").click()
    expect(worker_page.locator("#claim-status")).to_have_text("已报保险公司")

    # --- The insurer pays 3,200 yuan.
    admin_action(staff_page, base, claim, "local_insurer")
    staff_page.get_by_label("保险公司处理结果").select_option(label="赔付")
    staff_page.get_by_label("赔付金额（元）").fill("3200")
    staff_page.get_by_role("button", name="确认模拟保险公司处理").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("已赔付")

    worker_page.reload()
    expect(worker_page.locator("#claim-status")).to_have_text("已赔付")
    timeline = worker_page.locator("ol.timeline")
    for step in (
        "已报案",
        "开始审核",
        "审核通过，已报保险公司",
        "保险公司要求补材料",
        "补充材料1份",
        "保险公司赔付",
    ):
        expect(timeline).to_contain_text(step)
    worker_page.screenshot(path=artifacts / "insurance_claim_paid.png", full_page=True)
    wallet = ledger.worker_account(worker)
    wallet.refresh_from_db()
    assert wallet.balance_fen == 3200_00

    # --- Staff settle today's premiums: the policy's 6 yuan reach the insurer.
    staff_page.goto(base + "/admin/insurance/remittance/")
    staff_page.get_by_role("button", name="立即结算今日保费").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("已结清")
    expect(staff_page.locator("#result_list")).to_contain_text("下载CSV（1单）")
    staff_page.screenshot(path=artifacts / "insurance_remittance.png", full_page=True)
    remittance = Remittance.objects.get()
    assert remittance.amount_fen == 600 and remittance.status == "settled"
    assert payable_balance() == 0 and reconcile() == []
