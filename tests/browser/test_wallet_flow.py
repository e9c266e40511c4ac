"""Money through a whole order, in a real browser on phone-sized screens: the employer tops up its escrow
account (fake gateway) → publishes an insured post (a risk-class-4 trade needs cover) → the worker grabs it,
checks in and out → the employer confirms → the worker's wallet shows the pay with its order, the order
page shows the policy number, and the worker withdraws to a bank card. The books reconcile at the end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Area
from insurance.models import Policy
from jobs.models import Order, Post
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, UserFactory, started, verified_seeker
from tests.wallet.conftest import card
from wallet import ledger
from wallet.models import TopUp, Withdrawal
from wallet.selectors import reconcile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
BOSS_PHONE = "13700000031"
WORKER_PHONE = "13600000031"
SITE = {"latitude": 28.9, "longitude": 120.03}
NEAR_SITE = {"latitude": 28.9012, "longitude": 120.0311}


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def located(page, base: str, where: dict) -> None:
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation(where)


def test_top_up_insured_order_pay_reaches_the_wallet_and_is_withdrawn(live_server, new_page, artifacts):
    base = live_server.url
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    AreaFactory(name="西城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    TradeFactory(name="外墙清洗", category="housekeeping", risk_class=4)  # class 4: cover is required
    boss = UserFactory(phone=BOSS_PHONE, name="陈老板", role="employer")
    employer = EmployerFactory(created_by=boss, name="青溪物业服务有限公司", funds=0)
    worker = verified_seeker(phone=WORKER_PHONE, name="赵洪亮")
    start = timezone.localtime() + dt.timedelta(minutes=40)  # check-in opens an hour before the start

    # --- The employer tops up its escrow account through the wallet page.
    boss_page = new_page()
    located(boss_page, base, SITE)
    login(boss_page, base, BOSS_PHONE)
    boss_page.get_by_role("link", name="钱包").click()
    expect(boss_page.get_by_role("heading", name="托管账户")).to_be_visible()
    expect(boss_page.locator("#available")).to_contain_text("0.00")
    boss_page.get_by_label("充值金额（元）").fill("500")
    boss_page.screenshot(path=artifacts / "wallet_top_up_form.png", full_page=True)
    boss_page.get_by_role("button", name="充值").click()
    expect(boss_page.get_by_text("充值成功，500.00 元已到账")).to_be_visible()
    expect(boss_page.locator("#available")).to_contain_text("500.00")
    boss_page.screenshot(path=artifacts / "wallet_escrow_topped_up.png", full_page=True)
    assert TopUp.objects.get().status == TopUp.Status.PAID

    # --- It publishes a post in a class-4 trade: pay and premium are set aside from the account.
    boss_page.get_by_role("link", name="发布招工").first.click()
    boss_page.get_by_label("工种").select_option(label="外墙清洗")
    boss_page.get_by_label("标题", exact=True).fill("写字楼外墙清洗 招1人")
    boss_page.get_by_label("报酬（元）").fill("35")
    boss_page.get_by_label("按什么算").select_option(label="小时")
    boss_page.get_by_label("招几个人").fill("1")
    boss_page.get_by_label("每人预计数量").fill("3")
    boss_page.get_by_label("开工时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    boss_page.get_by_label("收工时间").fill((start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    boss_page.get_by_label("工作地区").select_option(label="青溪区 · 西城街道")
    boss_page.get_by_label("详细地址").fill("青溪大厦")
    boss_page.get_by_role("button", name="用我现在的位置作工作地点").click()
    expect(boss_page.locator("#here-status")).to_contain_text("已记录位置")
    boss_page.get_by_role("button", name="立即发布").click()
    expect(boss_page.locator(".status-big")).to_have_text("招工中")
    post = Post.objects.get()
    boss_page.get_by_role("link", name="钱包").click()
    # 35 × 3 pay plus the class-4 premium (6 yuan) set aside for the one slot.
    expect(boss_page.locator("#in-posts")).to_contain_text("111.00")
    expect(boss_page.locator("#available")).to_contain_text("389.00")

    # --- The worker grabs it, checks in on site and checks out.
    worker_page = new_page()
    located(worker_page, base, NEAR_SITE)
    login(worker_page, base, WORKER_PHONE)
    worker_page.goto(base + f"/jobs/{post.pk}/")
    worker_page.get_by_role("button", name="抢单").click()
    expect(worker_page.locator("#order-status")).to_have_text("已确认")
    order = Order.objects.get()
    worker_page.get_by_role("button", name="到岗签到").click()
    expect(worker_page.locator("#order-status")).to_have_text("已签到")
    started(order)  # check-out opens at the start: the shift begins (moved into the past)
    worker_page.reload()
    worker_page.get_by_label("干了多少（小时）").fill("3")
    worker_page.get_by_role("button", name="签退").click()
    expect(worker_page.locator("#order-status")).to_have_text("已签退")

    # --- The employer confirms; the escrow pays the worker.
    boss_page.goto(base + f"/jobs/orders/{order.pk}/")
    boss_page.get_by_role("button", name="确认完工").click()
    expect(boss_page.locator("#order-status")).to_have_text("已完工")
    boss_page.get_by_role("link", name="钱包").click()
    expect(boss_page.locator("#orders")).to_contain_text("应付 105.00 元 · 已付 105.00 元")
    boss_page.screenshot(path=artifacts / "wallet_escrow_after_order.png", full_page=True)

    # --- The worker's wallet shows the pay, on a line naming the order and the post.
    worker_page.get_by_role("link", name="钱包").click()
    expect(worker_page.get_by_role("heading", name="我的钱包")).to_be_visible()
    expect(worker_page.locator("#balance")).to_contain_text("105.00")
    line = worker_page.locator("#lines li", has_text="完工结算")
    expect(line).to_contain_text("+105.00 元")
    expect(line.get_by_role("link")).to_have_text(f"#{order.pk} 写字楼外墙清洗 招1人")
    worker_page.screenshot(path=artifacts / "wallet_worker_paid.png", full_page=True)

    # --- The order page shows the policy (the insurance app's panel) with its number.
    policy = Policy.objects.get(order=order)
    assert policy.policy_number
    line.get_by_role("link").click()
    expect(worker_page.locator("#order-status")).to_have_text("已完工")
    expect(worker_page.locator("#policy-panel")).to_contain_text(policy.policy_number)
    worker_page.locator("#policy-panel").screenshot(path=artifacts / "wallet_order_policy.png")

    # --- The worker withdraws part of it to a card in their own name.
    worker_page.get_by_role("link", name="钱包").click()
    worker_page.get_by_label("提现金额（元）").fill("100")
    worker_page.get_by_label("银行卡号").fill(card(31))
    expect(worker_page.get_by_label("持卡人姓名")).to_have_value("赵洪亮")
    worker_page.get_by_role("button", name="提现").click()
    expect(worker_page.locator("#withdrawal-status")).to_have_text("已到账")
    expect(worker_page.get_by_text("提现 100.00 元已转到您的银行卡")).to_be_visible()
    expect(worker_page.locator(".facts")).to_contain_text(card(31)[-4:])
    worker_page.screenshot(path=artifacts / "wallet_withdrawn.png", full_page=True)
    worker_page.get_by_role("link", name="‹ 我的钱包").click()
    expect(worker_page.locator("#balance")).to_contain_text("5.00")
    assert card(31) not in worker_page.content()
    worker_page.screenshot(path=artifacts / "wallet_worker_after_withdrawal.png", full_page=True)

    assert Withdrawal.objects.get().status == Withdrawal.Status.PROCESSED
    assert ledger.worker_account(worker).balance_fen == 500
    assert ledger.employer_account(employer).balance_fen == 389_00  # 500 − 105 pay − 6 premium
    assert reconcile() == []


def test_withdrawal_above_the_balance_is_explained(live_server, new_page, artifacts):
    worker = verified_seeker(phone=WORKER_PHONE, name="赵洪亮")
    ledger.transfer(
        key="seed", kind="release", legs=[(ledger.bank(), -3_000), (ledger.worker_account(worker), 3_000)]
    )
    page = new_page()
    login(page, live_server.url, WORKER_PHONE)
    page.goto(live_server.url + "/wallet/")
    page.get_by_label("提现金额（元）").fill("50")
    page.get_by_label("银行卡号").fill(card(32))
    page.get_by_role("button", name="提现").click()
    expect(page.locator("#withdraw")).to_contain_text("余额不足：钱包可提现 30.00 元")
    page.locator("#withdraw").screenshot(path=artifacts / "wallet_withdraw_refused.png")
    assert not Withdrawal.objects.exists() and reconcile() == []
