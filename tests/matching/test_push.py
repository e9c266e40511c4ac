"""活找人: the push when a post opens, the second push before the start, and the funnel marks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from jobs import services as jobs_services
from jobs.models import Claim, Post
from matching import services
from matching.models import Channel, PostPush, Recommendation
from notifications.models import Message
from tests.matching.conftest import consent, make_post, make_seeker, next_weekday

pytestmark = pytest.mark.django_db(transaction=True)

NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # outside quiet hours


def publish_draft(employer, boss, trade, area, **kw) -> Post:
    post = make_post(employer, trade, area, status=Post.Status.DRAFT, published_at=None, hold=False, **kw)
    return jobs_services.post_publish(post=post, actor=boss)


@time_machine.travel(NOON, tick=False)
def test_publishing_pushes_to_matching_seekers_sms_only_with_consent(employer, boss, trade, cleaning, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    qian = make_seeker("13600000002", "钱师傅", trades=[trade], area=town)
    sun = make_seeker("13600000003", "孙保洁", trades=[cleaning], area=town)
    consent(zhao)
    post = publish_draft(employer, boss, trade, town, starts_at=next_weekday(3))

    sms = Message.objects.filter(template="post_recommended", channel="sms")
    assert [m.phone for m in sms] == [zhao.phone]
    body = sms.get().body
    assert post.title in body and "http://127.0.0.1:8000/r/" in body and body.endswith("退订回T")
    inapp = Message.objects.filter(template="post_recommended_inapp", channel="inapp")
    assert {m.recipient_id for m in inapp} == {zhao.pk, qian.pk}
    assert not Message.objects.filter(recipient=sun, template__startswith="post_recommended").exists()

    recs = Recommendation.objects.filter(post=post)
    assert {(r.worker_id, r.channel, r.sent_at is not None) for r in recs} == {
        (zhao.pk, Channel.SMS, True),
        (zhao.pk, Channel.INAPP, True),
        (qian.pk, Channel.INAPP, True),
        (qian.pk, Channel.SMS, False),  # stored, but the notifications rules held it back
    }
    assert all(r.reason.startswith("想干小工") and r.wave == 1 for r in recs)
    assert PostPush.objects.get(post=post, wave=1).workers == 2


@time_machine.travel(NOON, tick=False)
def test_a_wave_runs_once(employer, boss, trade, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    consent(zhao)
    post = publish_draft(employer, boss, trade, town)
    assert services.push_post(post_id=post.pk, wave=1) == 0  # a duplicate signal or retried task
    assert Message.objects.filter(template="post_recommended", phone=zhao.phone).count() == 1


@time_machine.travel(NOON, tick=False)
def test_push_size_is_configurable_and_the_second_push_reaches_the_next_group(
    settings, employer, boss, trade, town
):
    settings.MATCHING_PUSH_SIZE = 2
    seekers = [make_seeker(f"1360000000{i}", f"工人{i}", trades=[trade], area=town) for i in range(5)]
    post = publish_draft(employer, boss, trade, town, starts_at=timezone.now() + dt.timedelta(days=2))
    first = set(Recommendation.objects.filter(post=post, wave=1).values_list("worker_id", flat=True))
    assert len(first) == 2
    # not yet close to the start: nothing
    assert services.posts_push_due() == 0
    with time_machine.travel(post.starts_at - dt.timedelta(hours=6), tick=False):
        assert services.posts_push_due() == 1
        assert services.posts_push_due() == 0  # once
    second = set(Recommendation.objects.filter(post=post, wave=2).values_list("worker_id", flat=True))
    assert len(second) == 2 and first.isdisjoint(second)
    assert first | second <= {s.pk for s in seekers}


@time_machine.travel(NOON, tick=False)
def test_no_second_push_for_a_filled_post(settings, employer, boss, trade, town):
    make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    post = publish_draft(
        employer, boss, trade, town, slots=1, starts_at=timezone.now() + dt.timedelta(days=1)
    )
    Post.objects.filter(pk=post.pk).update(slots_left=0, status=Post.Status.FILLED)
    with time_machine.travel(post.starts_at - dt.timedelta(hours=2), tick=False):
        assert services.posts_push_due() == 0
    assert not Recommendation.objects.filter(post=post, wave=2).exists()


@time_machine.travel(NOON, tick=False)
def test_a_lost_first_push_is_caught_up(employer, trade, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    post = make_post(employer, trade, town)  # opened without the signal (a lost task)
    assert services.posts_push_due() == 1
    assert Recommendation.objects.filter(post=post, worker=zhao, wave=1).exists()


@time_machine.travel(NOON, tick=False)
def test_funnel_link_marks_viewed_and_claim_marks_claimed(client, employer, boss, trade, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    consent(zhao)
    post = publish_draft(employer, boss, trade, town)
    sms_rec = Recommendation.objects.get(post=post, worker=zhao, channel=Channel.SMS)
    link = services.recommendation_link(sms_rec)
    path = link.split("8000", 1)[1]
    response = client.get(path)
    assert response.status_code == 302 and response.url == f"/jobs/{post.pk}/"
    sms_rec.refresh_from_db()
    assert sms_rec.viewed_at is not None
    # a mangled link is a 404, not a view
    assert client.get(path[:-3] + "abc/").status_code == 404
    jobs_services.claim_create(post=post, worker=zhao)
    assert set(
        Recommendation.objects.filter(post=post, worker=zhao).values_list("claimed_at", flat=True)
    ) != {None}
    assert Recommendation.objects.get(pk=sms_rec.pk).claimed_at is not None


@time_machine.travel(NOON, tick=False)
def test_link_opened_by_someone_else_is_not_a_view(client, employer, boss, trade, town, bob):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    post = publish_draft(employer, boss, trade, town)
    rec = Recommendation.objects.get(post=post, worker=zhao, channel=Channel.INAPP)
    client.force_login(bob)
    path = services.recommendation_link(rec).split("8000", 1)[1]
    assert client.get(path).status_code == 302
    rec.refresh_from_db()
    assert rec.viewed_at is None


def test_claim_without_recommendation_changes_nothing(employer, trade, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    post = make_post(employer, trade, town)
    claim = jobs_services.claim_create(post=post, worker=zhao)
    assert claim.status == Claim.Status.CONFIRMED
    assert not Recommendation.objects.exists()
