"""Shared steps of the browser journeys: signing in with a password, and a verified seeker whose profile
makes them a match (活找人) for posts of one trade in one street."""

from __future__ import annotations

from playwright.sync_api import expect

from accounts.models import WorkerProfile
from tests.factories import verified_seeker

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def seeker(phone: str, name: str, *, trade, street):
    user = verified_seeker(phone=phone, name=name)
    profile, _ = WorkerProfile.objects.get_or_create(user=user)
    profile.area = street
    profile.expected_pay_fen = 3000
    profile.expected_pay_unit = "hour"
    profile.save()
    profile.wanted_trades.set([trade])
    return user
