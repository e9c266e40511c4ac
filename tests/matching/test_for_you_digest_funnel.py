"""为你推荐 (page and API), the nightly digest, the funnel figures, the batch and the retrieval index."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from jobs import services as jobs_services
from jobs.models import Claim
from matching import batch, selectors, services
from matching.models import Channel, Recommendation, Suggestion, WorkerIndex
from notifications.models import Message
from tests.factories import ServicePointFactory, TradeFactory
from tests.matching.conftest import consent, make_post, make_seeker

pytestmark = pytest.mark.django_db

EVENING = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def zhao(trade, town):
    return make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)


def test_for_you_page_shows_reasons_and_counts_views(client, employer, trade, town, zhao):
    post = make_post(employer, trade, town, title="工地招小工", pay_fen=24000)
    client.force_login(zhao)
    page = client.get(reverse("matching:for_you"))
    html = page.content.decode()
    assert page.status_code == 200 and "为你推荐" in html and "工地招小工" in html
    assert "想干小工 · 就在西城街道" in html or "想干小工 · 离您不到1公里" in html
    rec = Recommendation.objects.get(worker=zhao, post=post, channel=Channel.FOR_YOU)
    assert rec.sent_at is not None and rec.viewed_at is None
    # reloading the page shows it again but counts it once
    client.get(reverse("matching:for_you"))
    assert Recommendation.objects.filter(worker=zhao, post=post).count() == 1
    opened = client.get(reverse("matching:open_post", args=[post.pk]))
    assert opened.status_code == 302 and opened.url == reverse("jobs:post_detail", args=[post.pk])
    rec.refresh_from_db()
    assert rec.viewed_at is not None
    jobs_services.claim_create(post=post, worker=zhao)
    rec.refresh_from_db()
    assert rec.claimed_at is not None
    # a claimed post is no longer recommended
    assert "工地招小工" not in client.get(reverse("matching:for_you")).content.decode()


def test_for_you_needs_login_and_is_for_seekers(client, boss):
    assert client.get(reverse("matching:for_you")).status_code == 302
    client.force_login(boss)
    page = client.get(reverse("matching:for_you"))
    assert page.status_code == 200 and "给求职者的" in page.content.decode()
    assert client.get("/api/v1/recommendations/").status_code == 403
    assert client.get(reverse("matching:open_post", args=[999999])).status_code == 404


def test_recommendations_api(client, employer, trade, town, zhao, alice):
    post = make_post(employer, trade, town, title="工地招小工")
    client.force_login(zhao)
    rows = client.get("/api/v1/recommendations/").json()
    assert [r["post"]["id"] for r in rows] == [post.pk]
    assert rows[0]["reason"].startswith("想干小工") and 0 < rows[0]["score"] <= 100
    bad = client.get("/api/v1/recommendations/?limit=abc")
    assert bad.status_code == 400 and "limit" in bad.json()["fields"]
    assert client.get("/api/v1/recommendations/?limit=0").status_code == 400
    # alice's list is hers (she wants nothing near here)
    client.force_login(alice)
    assert client.get("/api/v1/recommendations/").json() == []
    client.logout()
    assert client.get("/api/v1/recommendations/").status_code in (401, 403)


@time_machine.travel(EVENING, tick=False)
def test_digest_goes_only_to_consenting_seekers_once_a_day(employer, trade, town, zhao):
    qian = make_seeker("13600000002", "钱师傅", trades=[trade], area=town)
    post = make_post(employer, trade, town, title="工地招小工")
    consent(zhao)
    assert services.digest_send() == 1
    sms = Message.objects.get(template="matching_digest")
    assert sms.phone == zhao.phone and "工地招小工" in sms.body and "/matching/" in sms.body
    assert sms.body.endswith("退订回T")
    assert not Message.objects.filter(template="matching_digest", phone=qian.phone).exists()
    rec = Recommendation.objects.get(worker=zhao, post=post, channel=Channel.DIGEST)
    assert rec.sent_at is not None
    assert services.digest_send() == 0  # same day: nothing new
    assert Message.objects.filter(template="matching_digest").count() == 1


@time_machine.travel(EVENING, tick=False)
def test_digest_uses_the_batch_and_skips_claimed_posts(employer, trade, town, zhao):
    first = make_post(employer, trade, town, title="先推荐的", pay_fen=26000)
    second = make_post(
        employer, trade, town, title="第二个", starts_at=first.starts_at + dt.timedelta(days=1)
    )
    consent(zhao)
    result = batch.recompute_city(progress=False)
    assert result["workers"] >= 1 and result["suggestions"] >= 2
    assert list(
        Suggestion.objects.filter(worker=zhao).order_by("rank").values_list("post_id", flat=True)
    ) == [
        first.pk,
        second.pk,
    ]
    assert Suggestion.objects.get(worker=zhao, rank=1).reason.startswith("想干小工")
    Claim.objects.create(post=first, worker=zhao, status=Claim.Status.PENDING)
    services.digest_send()
    assert "第二个" in Message.objects.get(template="matching_digest").body


def test_batch_matches_brute_force_and_the_per_request_ranking(
    employer, trade, cleaning, town, village, zhao
):
    qian = make_seeker(
        "13600000002", "钱师傅", trades=[trade, cleaning], area=village, expected_pay_fen=15000
    )
    for i in range(6):
        make_post(employer, trade, town if i % 2 else village, pay_fen=18000 + 1000 * i, title=f"小工{i}")
        make_post(employer, cleaning, village, pay_fen=15000 + 500 * i, title=f"保洁{i}")
    batch.recompute_city(progress=False, top=5)
    index = batch.CityIndex.build(now=timezone.now())
    reference = batch.brute_force_top(index, [zhao.pk, qian.pk], top=5)
    stored = {
        u: list(Suggestion.objects.filter(worker_id=u).order_by("rank").values_list("post_id", flat=True))
        for u in (zhao.pk, qian.pk)
    }
    assert batch.overlap(stored, reference) == 1.0
    live = [m.post.pk for m in selectors.posts_for_worker(worker=qian, limit=5)]
    assert set(live) == set(stored[qian.pk])


def test_fast_ranking_equals_evaluate(employer, trade, cleaning, town, village, zhao):
    from matching import scoring

    for i in range(5):
        make_post(employer, trade, village, pay_fen=15000 + 3000 * i, lng=120.03 + 0.01 * i)
        make_post(employer, cleaning, town, pay_fen=9000 + 2000 * i, lng=120.03 - 0.02 * i)
    index = batch.CityIndex.build(now=timezone.now())
    wf = next(batch._facts_stream(index, only=[zhao.pk]))
    fast = scoring.rank_posts(wf, index.posts, index.weights, 100)
    for score, p in fast:
        assert scoring.evaluate(wf, p, index.weights).score == pytest.approx(score, abs=0.011)
    assert len(fast) == len([p for p in index.posts if scoring.evaluate(wf, p, index.weights)])


def test_funnel_figures(employer, trade, town, zhao):
    point = ServicePointFactory()
    qian = make_seeker("13600000002", "钱师傅", trades=[trade], area=town)
    qian.service_point = point
    qian.save()
    post = make_post(employer, trade, town)
    now = timezone.now()
    for user, channel, sent, viewed, claimed in [
        (zhao, Channel.SMS, True, True, True),
        (zhao, Channel.INAPP, True, False, True),
        (qian, Channel.SMS, False, False, False),
        (qian, Channel.INAPP, True, True, False),
    ]:
        Recommendation.objects.create(
            post=post, worker=user, channel=channel, score=50, reason="想干小工", created_at=now,
            sent_at=now if sent else None, viewed_at=now if viewed else None, claimed_at=now if claimed else None,
        )  # fmt: skip
    figures = selectors.funnel_figures(start=now - dt.timedelta(hours=1), end=now + dt.timedelta(hours=1))
    assert (figures["recommended"], figures["sent"], figures["viewed"], figures["claimed"]) == (2, 2, 2, 1)
    assert figures["view_rate"] == 1.0 and figures["claim_rate"] == 0.5
    assert figures["by_channel"]["sms"] == {
        "recommended": 2, "sent": 1, "viewed": 1, "claimed": 1, "view_rate": 1.0, "claim_rate": 1.0,
    }  # fmt: skip
    assert figures["by_channel"]["inapp"]["sent"] == 2 and figures["by_channel"]["inapp"]["claimed"] == 1
    at_point = selectors.funnel_figures(
        start=now - dt.timedelta(hours=1), end=now + dt.timedelta(hours=1), service_point=point
    )
    assert (at_point["sent"], at_point["viewed"], at_point["claimed"]) == (1, 1, 0)
    empty = selectors.funnel_figures(start=now + dt.timedelta(hours=2), end=now + dt.timedelta(hours=3))
    assert empty["sent"] == 0 and empty["view_rate"] == 0.0


def test_retrieval_index_follows_the_profile(trade, town, other_town, zhao):
    assert list(WorkerIndex.objects.filter(user=zhao).values_list("trade_id", "town_id")) == [
        (trade.pk, town.pk)
    ]
    bricklayer = TradeFactory(name="瓦工", category="construction", risk_class=2)
    account_services.worker_profile_update(user=zhao, wanted_trades=[bricklayer], area=other_town)
    assert list(WorkerIndex.objects.filter(user=zhao).values_list("trade_id", "town_id")) == [
        (bricklayer.pk, other_town.pk)
    ]
    WorkerIndex.objects.all().delete()
    from matching.indexing import worker_index_rebuild

    assert worker_index_rebuild() == 1
    assert WorkerIndex.objects.get(user=zhao).town_id == other_town.pk
