"""The dashboard's insurance figures: share of orders insured over a period and per service point (with the
points under it), policies by status, premiums bought and refunded, claims by status and payouts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from insurance import services
from insurance.selectors import insurance_summary
from jobs import services as jobs_services
from tests.factories import ServicePointFactory, verified_seeker

from .helpers import PREMIUM, check_in, grab, issue, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(publish, safe_trade, worker, worker2, reviewer, monkeypatch):
    """district market ⊃ street market; another station elsewhere. Five orders, three claims."""
    district = ServicePointFactory(name="青溪区零工市场", kind="district_market")
    street = ServicePointFactory(name="西城街道零工市场", kind="street_market", parent=district)
    elsewhere = ServicePointFactory(name="东山村零工驿站")
    p1 = publish(slots=2, point=street)
    working, cancelled = grab(p1, worker), grab(p1, worker2)
    issue(working)
    issue(cancelled)
    jobs_services.order_cancel_by_worker(order=cancelled, worker=worker2)
    check_in(working, worker)
    p2 = publish(slots=1, trade_=safe_trade, point=elsewhere)
    grab(p2, verified_seeker(phone="13600000003", name="孙师傅"))
    p3 = publish(slots=1, point=district)
    refused = grab(p3, verified_seeker(phone="13600000004", name="李师傅"))
    refused.policy.refresh_from_db()
    services.policy_fail(policy=refused.policy, reason="保险公司拒保该风险（2001）")
    working.refresh_from_db()
    paid, rejected, _open = report(working, worker), report(working, worker), report(working, worker)
    services.claim_review_start(claim=paid, actor=reviewer)
    services.claim_approve(claim=paid, actor=reviewer, payout_fen=1_000_00)
    services.claim_reject(claim=rejected, actor=reviewer, reason="非工作原因")
    return {"district": district, "street": street, "elsewhere": elsewhere}


def window(days=3):
    now = timezone.now()
    return {"since": now - dt.timedelta(days=1), "until": now + dt.timedelta(days=days)}


def test_whole_market_figures(market):
    s = insurance_summary(**window())
    # Orders that went ahead: the working one, the uninsured cleaning job, the one the insurer refused.
    assert (s.orders, s.insured_orders, s.required_orders) == (3, 1, 2)
    assert s.insured_share == pytest.approx(1 / 3, abs=1e-4)
    assert s.policies_by_status == {
        "pending": 0,
        "issued": 0,
        "active": 1,
        "ended": 0,
        "cancelled": 1,
        "failed": 1,
    }
    assert (s.premiums_fen, s.premiums_refunded_fen) == (PREMIUM, 2 * PREMIUM)
    assert s.claims_by_status == {
        "reported": 1,
        "under_review": 0,
        "forwarded": 0,
        "accepted": 0,
        "need_docs": 0,
        "approved": 1,
        "rejected": 1,
    }
    assert (s.payouts_fen, s.payouts_count) == (1_000_00, 1)


def test_by_service_point_includes_the_points_below(market):
    district = insurance_summary(**window(), service_point=market["district"])
    assert (district.orders, district.insured_orders, district.insured_share) == (2, 1, 0.5)
    assert district.payouts_fen == 1_000_00
    street = insurance_summary(**window(), service_point=market["street"])
    assert (street.orders, street.insured_orders, street.insured_share) == (1, 1, 1.0)
    elsewhere = insurance_summary(**window(), service_point=market["elsewhere"])
    assert (elsewhere.orders, elsewhere.insured_orders, elsewhere.insured_share) == (1, 0, 0.0)
    assert elsewhere.claims_by_status["approved"] == 0 and elsewhere.payouts_fen == 0


def test_a_period_without_orders(market):
    now = timezone.now()
    s = insurance_summary(since=now - dt.timedelta(days=30), until=now - dt.timedelta(days=20))
    assert s.orders == 0 and s.insured_share is None and s.premiums_fen == 0
