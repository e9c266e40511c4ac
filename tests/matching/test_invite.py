"""Employers' recommended workers and invitations: the one-tap link claims through every claim gate."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import RealName
from jobs.models import Block, Claim, Order, Post
from matching import services
from matching.models import Channel, Invitation, Recommendation
from notifications.models import Message
from tests.matching.conftest import make_post, make_seeker, set_stats

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(employer, trade, town):
    return make_post(employer, trade, town, title="工地招小工")


@pytest.fixture
def zhao(trade, town):
    user = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    set_stats(user, reliability=97, stars=4.5, completed=6)
    return user


def invite_path(inv: Invitation) -> str:
    return reverse("matching:invitation", args=[services.invitation_token(inv)])


def test_employer_sees_recommended_workers_masked(client, boss, post, zhao):
    client.force_login(boss)
    page = client.get(reverse("matching:post_workers", args=[post.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "赵**" in html and "136****0001" in html and "13600000001" not in html and "赵洪亮" not in html
    assert "靠谱分 <strong>97</strong>" in html and "4.5星" in html and "想干小工" in html
    api = client.get(f"/api/v1/posts/{post.pk}/recommended-workers/")
    assert api.status_code == 200
    row = api.json()[0]
    assert row["worker"] == zhao.pk and row["name"] == "赵**" and row["phone"] == "136****0001"
    assert row["reliability"] == 97 and row["stars"] == 4.5 and row["reason"].startswith("想干小工")


def test_other_employers_and_seekers_get_404(client, post, rival, zhao, charlie):
    for user in (rival.created_by, charlie):
        client.force_login(user)
        assert client.get(reverse("matching:post_workers", args=[post.pk])).status_code == 404
        assert client.get(f"/api/v1/posts/{post.pk}/recommended-workers/").status_code == 404
        assert client.post(f"/api/v1/posts/{post.pk}/invitations/", {"worker": zhao.pk}).status_code == 404
        assert client.post(reverse("matching:invite", args=[post.pk, zhao.pk])).status_code == 404
    assert not Invitation.objects.exists()


def test_invite_sends_sms_with_a_one_tap_link_and_the_claim_goes_through_the_gates(client, boss, post, zhao):
    client.force_login(boss)
    response = client.post(reverse("matching:invite", args=[post.pk, zhao.pk]))
    assert response.status_code == 302
    inv = Invitation.objects.get(post=post, worker=zhao)
    assert inv.expires_at == post.starts_at and inv.sms_sent
    sms = Message.objects.get(phone=zhao.phone, channel="sms", template="post_invitation")
    assert "马架龙建筑劳务公司邀请您" in sms.body and f"/i/{inv.code}" in sms.body and "退订" not in sms.body
    assert Message.objects.filter(recipient=zhao, channel="inapp", template="post_invitation").exists()
    rec = Recommendation.objects.get(post=post, worker=zhao, channel=Channel.INVITE)
    assert rec.sent_at is not None and rec.reason.startswith("想干小工")
    # a second invitation of the same worker is refused
    assert (
        client.post(f"/api/v1/posts/{post.pk}/invitations/", {"worker": zhao.pk}).json()["code"]
        == "duplicate"
    )

    short = sms.body.split("8000", 1)[1].split()[0]
    assert short == f"/i/{inv.code}" and len(short) <= 16  # the SMS carries the short link
    path = invite_path(inv)
    assert client.get(short).url == path  # which leads to the invitation page (that checks who opens it)
    assert client.get(short[:-2] + "zz").status_code == 404
    client.logout()
    assert client.get(path).status_code == 302  # sign in first
    client.force_login(zhao)
    page = client.get(path)
    assert page.status_code == 200 and "接受邀请" in page.content.decode()
    rec.refresh_from_db()
    assert rec.viewed_at is not None
    done = client.post(path)
    claim = Claim.objects.get(post=post, worker=zhao)
    assert claim.status == Claim.Status.CONFIRMED and claim.note == "应雇主邀请"
    assert done.status_code == 302 and done.url == reverse("jobs:order_detail", args=[claim.order.pk])
    inv.refresh_from_db()
    rec.refresh_from_db()
    assert inv.accepted_at is not None and rec.claimed_at is not None
    # tapping again does not claim twice
    assert client.post(path).status_code == 200
    assert Claim.objects.filter(post=post, worker=zhao).count() == 1


def test_the_link_is_personal_signed_and_expires(client, boss, post, zhao, charlie):
    inv = services.invitation_create(post=post, worker_id=zhao.pk, actor=boss)
    path = invite_path(inv)
    client.force_login(charlie)
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404
    assert client.get(path[:-4] + "xyz/").status_code == 404
    client.force_login(zhao)
    with time_machine.travel(post.starts_at + dt.timedelta(minutes=1)):
        page = client.get(path)
        assert page.status_code == 410 and "已过期" in page.content.decode()
    assert not Claim.objects.exists()


def test_claim_gates_still_apply_to_an_invited_worker(client, boss, post, zhao):
    inv = services.invitation_create(post=post, worker_id=zhao.pk, actor=boss)
    RealName.objects.filter(user=zhao).update(status=RealName.Status.REJECTED)  # lost verification since
    client.force_login(zhao)
    response = client.post(invite_path(inv))
    assert response.status_code == 400
    assert "实名" in response.content.decode()
    assert not Claim.objects.exists() and not Order.objects.exists()


def test_invite_refusals(client, boss, employer, trade, town, post, zhao):
    client.force_login(boss)
    url = f"/api/v1/posts/{post.pk}/invitations/"
    # bad input: a structured field error
    bad = client.post(url, {"worker": "abc"})
    assert bad.status_code == 400 and "worker" in bad.json()["fields"]
    # not a seeker / unknown
    assert client.post(url, {"worker": boss.pk}).json()["fields"] == {"worker": ["没有这位求职者"]}
    # blocked by this employer
    Block.objects.create(employer=employer, worker=zhao, created_by=boss)
    blocked = client.post(url, {"worker": zhao.pk})
    assert blocked.status_code == 403 and blocked.json()["code"] == "blocked"
    Block.objects.all().delete()
    # a seeker who does not want this trade is not a match
    other = make_seeker("13600000002", "钱师傅", trades=[], area=town)
    assert client.post(url, {"worker": other.pk}).json()["code"] == "not_a_match"
    # a post no longer open
    Post.objects.filter(pk=post.pk).update(status=Post.Status.CLOSED)
    closed = client.post(url, {"worker": zhao.pk})
    assert closed.status_code == 409 and closed.json()["code"] == "invalid_transition"
    assert not Invitation.objects.exists() and not Message.objects.filter(template="post_invitation").exists()


def test_invitations_list_is_the_employers_own(client, boss, post, zhao, rival):
    services.invitation_create(post=post, worker_id=zhao.pk, actor=boss)
    client.force_login(boss)
    rows = client.get(f"/api/v1/posts/{post.pk}/invitations/").json()
    assert [r["worker"] for r in rows] == [zhao.pk]
    client.force_login(rival.created_by)
    assert client.get(f"/api/v1/posts/{post.pk}/invitations/").status_code == 404


def test_invited_worker_shows_as_invited(client, boss, post, zhao):
    services.invitation_create(post=post, worker_id=zhao.pk, actor=boss)
    client.force_login(boss)
    assert client.get(f"/api/v1/posts/{post.pk}/recommended-workers/").json()[0]["invited"] is True
    assert "已邀请" in client.get(reverse("matching:post_workers", args=[post.pk])).content.decode()


def test_invites_are_limited_per_post(settings, boss, employer, trade, town):
    settings.MATCHING_INVITES_PER_POST = 1
    post = make_post(employer, trade, town, slots=1)
    a = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    b = make_seeker("13600000002", "钱师傅", trades=[trade], area=town)
    services.invitation_create(post=post, worker_id=a.pk, actor=boss)
    from core.errors import Conflict

    with pytest.raises(Conflict):
        services.invitation_create(post=post, worker_id=b.pk, actor=boss)
    assert timezone.now() < post.starts_at
