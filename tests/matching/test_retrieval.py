"""Candidate retrieval: trade + town first, then widen; gates in the query; never a cross product."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Certificate, CertificateType
from jobs.models import Block, Claim, Order
from matching import selectors
from tests.factories import PostFactory, TradeFactory
from tests.matching.conftest import CENTRE, make_post, make_seeker, set_stats

pytestmark = pytest.mark.django_db


def km_east(km: float) -> float:
    return CENTRE[1] + km / (111.195 * 0.8752)


def test_posts_for_worker_ranks_and_explains(employer, trade, cleaning, town, village, other_town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town, expected_pay_fen=20000)
    best = make_post(employer, trade, village, pay_fen=26000, lng=km_east(2), title="村里招小工")
    ok = make_post(employer, trade, town, pay_fen=20000, lng=km_east(6), title="街道招小工")
    make_post(employer, cleaning, town, title="招保洁")  # a trade they do not want, other category
    far = make_post(employer, trade, other_town, lng=km_east(40), title="太远的小工")  # beyond 20 km
    matches = selectors.posts_for_worker(worker=zhao)
    titles = [m.post.title for m in matches]
    assert titles[:2] == ["村里招小工", "街道招小工"]
    assert far.pk not in [m.post.pk for m in matches]
    assert "招保洁" not in titles
    assert matches[0].reason == "想干小工 · 离您2公里 · 日薪高于期望"
    assert matches[0].score > matches[1].score
    assert best.pk == matches[0].post.pk and ok.pk == matches[1].post.pk


def test_posts_for_worker_leaves_out_what_the_claim_gates_refuse(employer, rival, trade, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    claimed = make_post(employer, trade, town, title="已经接过")
    Claim.objects.create(post=claimed, worker=zhao, status=Claim.Status.PENDING)
    blocked = make_post(rival, trade, town, title="被拉黑的雇主")
    Block.objects.create(employer=rival, worker=zhao, created_by=rival.created_by)
    welding = TradeFactory(name="电焊工", category="construction", risk_class=4)
    welding.certificate_type = CertificateType.objects.create(code="weld", name="焊工证")
    welding.save()
    zhao.worker_profile.wanted_trades.add(welding)
    restricted = make_post(employer, welding, town, title="要证的焊工")
    visible = make_post(employer, trade, town, title="可以接")
    titles = [m.post.title for m in selectors.posts_for_worker(worker=zhao)]
    assert titles == ["可以接"]
    # with a valid certificate the restricted post appears
    Certificate.objects.create(
        user=zhao, cert_type=welding.certificate_type, number="X1", image="c.png",
        expires_on=dt.date.today() + dt.timedelta(days=300), status=Certificate.Status.APPROVED,
    )  # fmt: skip
    titles = [m.post.title for m in selectors.posts_for_worker(worker=zhao)]
    assert set(titles) == {"可以接", "要证的焊工"}
    assert {claimed.pk, blocked.pk}.isdisjoint({m.post.pk for m in selectors.posts_for_worker(worker=zhao)})
    assert restricted.pk and visible.pk


def test_clashing_confirmed_order_hides_the_post(employer, trade, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    first = make_post(employer, trade, town, title="已确认的活")
    clash = make_post(employer, trade, town, title="同一时间的活", starts_at=first.starts_at)
    claim = Claim.objects.create(post=first, worker=zhao, status=Claim.Status.CONFIRMED)
    Order.objects.create(
        claim=claim,
        post=first,
        worker=zhao,
        employer=employer,
        starts_at=first.starts_at,
        ends_at=first.ends_at,
    )
    assert clash.pk not in [m.post.pk for m in selectors.posts_for_worker(worker=zhao)]


def test_widens_to_the_trade_category_when_nothing_else(employer, trade, town):
    bricklayer = TradeFactory(name="瓦工", category="construction", risk_class=2)
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    make_post(employer, bricklayer, town, title="招瓦工")
    matches = selectors.posts_for_worker(worker=zhao)
    assert [m.post.title for m in matches] == ["招瓦工"]
    assert matches[0].reason.startswith("同类活：瓦工")


def test_non_seekers_and_seekers_without_profile_get_nothing(employer, boss, trade, town, alice):
    make_post(employer, trade, town)
    assert selectors.posts_for_worker(worker=boss) == []
    alice.worker_profile.delete()
    assert selectors.posts_for_worker(worker=alice) == []


def test_workers_for_post_ranks_verified_seekers_nearby(employer, trade, town, village, other_town):
    post = make_post(employer, trade, town, pay_fen=22000)
    near = make_seeker("13600000001", "赵洪亮", trades=[trade], area=village, lng=km_east(1))
    set_stats(near, reliability=98, stars=4.6)
    mid = make_seeker("13600000002", "钱师傅", trades=[trade], area=town, lng=km_east(8))
    make_seeker("13600000003", "孙未实名", trades=[trade], area=town, verified=False)
    make_seeker(
        "13600000004",
        "李不想干",
        trades=[TradeFactory(name="保洁", category="housekeeping", risk_class=1)],
        area=town,
    )
    wide = make_seeker(
        "13600000005", "周外镇", trades=[trade], area=other_town, lng=km_east(12), max_distance_km=30
    )
    matches = selectors.workers_for_post(post=post)
    assert [m.worker_id for m in matches] == [near.pk, mid.pk, wide.pk]
    assert matches[0].reason.startswith("想干小工 · 离工作地点1公里")


def test_retrieval_is_a_fixed_number_of_queries(employer, trade, town):
    post = make_post(employer, trade, town)
    for i in range(12):
        make_seeker(f"136000001{i:02d}", f"工人{i}", trades=[trade], area=town)
    with CaptureQueriesContext(connection) as few:
        selectors.workers_for_post(post=post)
    for i in range(12, 40):
        make_seeker(f"136000001{i:02d}", f"工人{i}", trades=[trade], area=town)
    with CaptureQueriesContext(connection) as many:
        assert len(selectors.workers_for_post(post=post, limit=40)) == 40
    assert len(many.captured_queries) == len(few.captured_queries)
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    for _ in range(5):
        PostFactory(employer=employer, trade=trade, area=town, district=town.parent)
    with CaptureQueriesContext(connection) as seeker_queries:
        selectors.posts_for_worker(worker=zhao)
    assert len(seeker_queries.captured_queries) <= 12
