"""The links SMS carry are short (/r/<code>, /i/<code>, under 30 characters after the host), random and on
the configured site; the long signed links sent before them keep working."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.urls import reverse

from jobs import services as jobs_services
from jobs.models import Post
from matching import services
from matching.models import Channel, Recommendation
from notifications.models import Message
from tests.matching.conftest import consent, make_post, make_seeker

pytestmark = pytest.mark.django_db(transaction=True)

NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # outside quiet hours


@time_machine.travel(NOON, tick=False)
def test_the_recommendation_sms_carries_a_short_link_on_the_site(
    settings, client, employer, boss, trade, town
):
    settings.MATCHING_SITE_URL = "https://gig.example.cn"
    workers = [make_seeker(f"136000000{i:02d}", f"工人{i}", trades=[trade], area=town) for i in range(1, 6)]
    for worker in workers:
        consent(worker)
    draft = make_post(employer, trade, town, status=Post.Status.DRAFT, published_at=None, hold=False)
    post = jobs_services.post_publish(post=draft, actor=boss)

    bodies = list(
        Message.objects.filter(template="post_recommended", channel="sms").values_list("body", flat=True)
    )
    assert len(bodies) == len(workers)
    codes = set()
    for body in bodies:
        link = re.search(r"https?://\S+?(?=[，。\s]|退订|$)", body).group(0)
        parts = urlsplit(link)
        assert parts.netloc == "gig.example.cn"  # the configured site, not the default port
        assert len(parts.path) <= 30 and re.fullmatch(r"/r/[A-Za-z0-9_-]{11}", parts.path), link
        codes.add(parts.path[3:])
    assert len(codes) == len(workers)  # one random code per message
    rec = Recommendation.objects.get(post=post, worker=workers[0], channel=Channel.SMS)
    assert rec.code in codes

    response = client.get(f"/r/{rec.code}")
    assert response.status_code == 302 and response.url == f"/jobs/{post.pk}/"
    rec.refresh_from_db()
    assert rec.viewed_at is not None
    # opening it again is harmless: still the post, the first view time kept
    first = rec.viewed_at
    assert client.get(f"/r/{rec.code}").status_code == 302
    rec.refresh_from_db()
    assert rec.viewed_at == first


def test_short_codes_are_random_and_unknown_ones_are_404(client):
    codes = {services.short_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(re.fullmatch(r"[A-Za-z0-9_-]{11}", c) for c in codes)
    assert client.get("/r/AAAAAAAAAAA").status_code == 404
    assert client.get("/i/AAAAAAAAAAA").status_code == 404


@time_machine.travel(NOON, tick=False)
def test_an_old_long_link_still_opens_the_post(client, employer, trade, town):
    zhao = make_seeker("13600000001", "赵洪亮", trades=[trade], area=town)
    post = make_post(employer, trade, town)
    rec = Recommendation.objects.create(
        post=post, worker=zhao, channel=Channel.SMS, score=1.0, reason="旧短信"
    )
    assert rec.code is None
    old = reverse("matching:open_link", args=[signing.dumps(rec.pk, salt=services.LINK_SALT, compress=True)])
    assert services.recommendation_link(rec).endswith(old)
    response = client.get(old)
    assert response.status_code == 302 and response.url == f"/jobs/{post.pk}/"
    rec.refresh_from_db()
    assert rec.viewed_at is not None


def test_scripts_run_sends_links_to_the_port_it_serves():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "scripts" / "run").read_text()
    assert 'GIGMARKET_SITE_URL="${GIGMARKET_SITE_URL:-http://$HOST:$PORT}"' in script
