"""The premium table: seeded 3–10 yuan per order with 1,000,000 yuan cover, edited by staff; a post needing
cover in a refused class cannot publish (nothing set aside); a published post keeps its premium."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from insurance.models import Policy, PostQuote, PremiumRate
from insurance.payable import payable_balance
from insurance.premiums import cover_required, premium_for_post, quote
from jobs import money
from jobs import services as jobs_services
from jobs.models import Post
from tests.factories import TradeFactory
from wallet import ledger

from .helpers import FUNDS, PAY, PREMIUM, bal, books_clean, grab

pytestmark = pytest.mark.django_db


def test_default_table_is_3_to_10_yuan_with_a_million_cover():
    rates = {r.risk_class: (r.premium_fen, r.cover_fen, r.insurable) for r in PremiumRate.objects.all()}
    assert sorted(rates) == [1, 2, 3, 4, 5, 6]
    assert min(p for p, _, _ in rates.values()) == 300 and max(p for p, _, _ in rates.values()) == 1000
    assert all(cover == 1_000_000_00 and ok for _, cover, ok in rates.values())
    assert quote(risk_class=4).premium_fen == PREMIUM and quote(risk_class=4).insurable


def test_cover_required_by_the_post_or_the_class(publish, safe_trade, trade):
    assert cover_required(post=publish(trade_=trade)) is True  # class 4 ≥ INSURANCE_REQUIRED_FROM_CLASS
    assert cover_required(post=publish(trade_=safe_trade)) is False
    assert cover_required(post=publish(trade_=safe_trade, insured=True)) is True


def test_publish_sets_aside_pay_and_premium_per_slot(publish, employer):
    post = publish(slots=3)
    assert bal(money.post_hold(post)) == 3 * (PAY + PREMIUM)
    assert bal(ledger.employer_account(employer)) == FUNDS - 3 * (PAY + PREMIUM)
    assert books_clean()


@pytest.mark.parametrize("how", ["above_max_class", "not_insurable_in_table"])
def test_a_post_needing_cover_in_a_refused_class_cannot_publish(
    how, settings, employer, boss, street, publish
):
    risky = TradeFactory(name="高空外墙清洗", category="services", risk_class=6)
    if how == "above_max_class":
        settings.INSURANCE_MAX_CLASS = 5
    else:
        PremiumRate.objects.filter(risk_class=6).update(insurable=False)
    with pytest.raises(DomainError) as info:
        publish(trade_=risky)
    assert info.value.code == "not_insurable" and info.value.field == "insurance_required"
    assert "6级" in info.value.message and "不予承保" in info.value.message
    # Nothing published, nothing set aside.
    assert not Post.objects.filter(status="open").exists()
    assert bal(ledger.employer_account(employer)) == FUNDS and books_clean()


def test_refused_class_is_refused_even_when_the_post_asks_for_cover(settings, publish, safe_trade):
    PremiumRate.objects.filter(risk_class=1).update(insurable=False)
    assert publish(trade_=safe_trade).status == "open"  # no cover needed: publishes
    with pytest.raises(DomainError, match="不予承保"):
        publish(trade_=safe_trade, insured=True)


def test_publish_of_a_draft_checks_the_table_at_publish_time(employer, boss, street, trade, publish):
    post = publish()
    draft = jobs_services.post_create(
        employer=employer, actor=boss, trade=trade, title="外墙脚手架搭设", description="", pay_fen=PAY,
        pay_unit="day", quantity=1, slots=1, area=street, address="工业区8号", lat=None, lng=None,
        starts_at=post.starts_at, ends_at=post.ends_at, mode="grab", insurance_required=False,
        contact_name="陈老板", contact_phone="13700001111",
    )  # fmt: skip
    PremiumRate.objects.filter(risk_class=4).update(insurable=False)
    with pytest.raises(DomainError):
        jobs_services.post_publish(post=draft, actor=boss)
    draft.refresh_from_db()
    assert draft.status == "draft" and not PostQuote.objects.filter(post=draft).exists()


def test_a_published_post_keeps_its_premium_when_the_table_changes(publish, worker, worker2):
    post = publish(slots=2)
    PremiumRate.objects.filter(risk_class=4).update(premium_fen=900)
    first, second = grab(post, worker), grab(post, worker2)
    # Both orders pay what the hold was sized with; the last slot is not short.
    assert first.policy.premium_fen == second.policy.premium_fen == PREMIUM
    assert premium_for_post(post=post) == PREMIUM
    assert bal(money.post_hold(post)) == 0 and payable_balance() == 2 * PREMIUM
    assert books_clean()
    # A post published now pays the new rate.
    assert premium_for_post(post=publish(slots=1)) == 900


def test_no_cover_needed_means_no_premium_and_no_policy(publish, safe_trade, worker, employer):
    post = publish(trade_=safe_trade, slots=1)
    order = grab(post, worker)
    assert not Policy.objects.filter(order=order).exists()
    assert payable_balance() == 0
    assert bal(ledger.employer_account(employer)) == FUNDS - PAY and books_clean()
