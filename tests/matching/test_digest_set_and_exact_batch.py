"""The digest, set-based, writes what the seeker-by-seeker digest writes; the nightly batch's top 10 is the
brute-force top 10 for every seeker."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from jobs.models import Claim
from matching import batch, services
from matching.models import Channel, Recommendation, Suggestion
from notifications.models import Message, Preference
from tests.factories import AreaFactory, TradeFactory
from tests.matching.conftest import consent, make_post, make_seeker, set_stats

pytestmark = pytest.mark.django_db

EVENING = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _snapshot() -> tuple[set, set]:
    messages = set(
        Message.objects.filter(template="matching_digest").values_list(
            "event_key", "channel", "phone", "recipient_id", "body", "status", "marketing", "send_after"
        )
    )
    recs = set(
        Recommendation.objects.values_list(
            "worker_id", "post_id", "channel", "score", "reason", "created_at", "sent_at"
        )
    )
    return messages, recs


def _digest_seeker_by_seeker(*, per_worker: int = 3) -> int:
    """The digest as it was before it went set-based: one seeker, one transaction, at a time."""
    from accounts.models import User

    now = timezone.now()
    consenting = Preference.objects.filter(
        marketing_consent=True, sms_recommendations=True, user__role=User.Role.SEEKER, user__is_active=True
    ).values_list("user_id", flat=True)
    sent = 0
    for user in User.objects.filter(pk__in=consenting).order_by("pk"):
        with transaction.atomic():
            sent += services._digest_one(
                user=user, day=timezone.localdate(now), now=now, per_worker=per_worker
            )
    return sent


@time_machine.travel(EVENING, tick=False)
def test_set_based_digest_equals_the_seeker_by_seeker_one(employer, trade, cleaning, town, village):
    posts = [
        make_post(
            employer,
            trade if i % 3 else cleaning,
            town if i % 2 else village,
            pay_fen=15000 + 700 * i,
            title=f"岗位{i}",
            lng=120.0 + 0.004 * i,
        )
        for i in range(12)
    ]
    seekers = [
        make_seeker(
            f"136000001{i:02d}",
            f"求职者{i}",
            trades=[trade] if i % 2 else [trade, cleaning],
            area=village if i % 3 else town,
            lng=120.0 + 0.01 * i,
        )
        for i in range(9)
    ]
    for user in seekers[:8]:
        consent(user)  # the last one never agreed: no digest
    batch.recompute_city(progress=False)
    # Claimed posts are skipped; a seeker the batch missed gets the live ranking; one already had today's
    # digest; one had a digest recommendation of a post before (kept, not duplicated).
    first_two = Suggestion.objects.filter(worker=seekers[1]).order_by("rank")[:2]
    for s in first_two:
        Claim.objects.create(post=s.post, worker=seekers[1], status=Claim.Status.PENDING)
    Suggestion.objects.filter(worker=seekers[2]).delete()
    Message.objects.create(
        event_key=f"digest:{timezone.localdate().isoformat()}:{seekers[3].pk}", phone=seekers[3].phone,
        recipient=seekers[3], template="matching_digest", body="今天的", marketing=True,
    )  # fmt: skip
    old = Suggestion.objects.filter(worker=seekers[4]).order_by("rank").first()
    Recommendation.objects.create(
        post=old.post, worker=seekers[4], channel=Channel.DIGEST, score=1.0, reason="以前的",
        created_at=timezone.now() - dt.timedelta(days=3),
    )  # fmt: skip
    assert posts

    with transaction.atomic():
        n_set = services.digest_send(chunk=3)
        got = _snapshot()
        transaction.set_rollback(True)
    n_one = _digest_seeker_by_seeker()
    expected = _snapshot()

    assert n_set == n_one == 7  # 8 consenting, one had today's digest, the others all have posts
    assert got == expected
    assert services.digest_send(chunk=3) == 0  # the same day again: nothing


def _city(employer, district, n_trades=3, n_areas=4, n_posts=90, n_seekers=25, seed=5):
    """A small city: posts of several trades over several streets, with pay, place, times and applicants
    spread so that scores differ; seekers with different trades, places, expectations and availability."""
    rng = random.Random(seed)
    trades = [TradeFactory(name=f"工种{i}", category="construction" if i % 2 else "housekeeping")
              for i in range(n_trades)]  # fmt: skip
    areas = [AreaFactory(name=f"街道{i}", code=f"3501861{i:02d}000", level="street", parent=district)
             for i in range(n_areas)]  # fmt: skip
    base = timezone.localtime(timezone.now()).replace(minute=0, second=0, microsecond=0)
    for i in range(n_posts):
        start = base + dt.timedelta(days=rng.randint(1, 9), hours=rng.choice((0, 5, 10)))
        make_post(
            employer, rng.choice(trades), rng.choice(areas), title=f"岗位{i}{rng.choice(('搬运', '保洁', '焊工'))}",
            pay_fen=rng.randrange(8000, 40000, 500), pay_unit=rng.choice(("day", "day", "hour")),
            lat=28.9 + rng.uniform(-0.15, 0.15), lng=120.0 + rng.uniform(-0.15, 0.15),
            starts_at=start, ends_at=start + dt.timedelta(hours=rng.choice((4, 8, 9))),
        )  # fmt: skip
    users = []
    for i in range(n_seekers):
        user = make_seeker(
            f"1360000{i:04d}", f"工人{i}", trades=rng.sample(trades, rng.randint(1, 2)), area=rng.choice(areas),
            lat=28.9 + rng.uniform(-0.12, 0.12), lng=120.0 + rng.uniform(-0.12, 0.12),
            expected_pay_fen=rng.randrange(10000, 30000, 1000), max_distance_km=rng.choice((5, 10, 20, 50)),
            skills=rng.choice((["搬运"], ["焊工"], [])), availability=rng.choice(([], ["weekdays"], ["mornings"])),
        )  # fmt: skip
        set_stats(user, reliability=rng.randint(50, 100), stars=rng.choice((None, 3.5, 5)))
        users.append(user)
    return users


@pytest.mark.parametrize("search", ["vectors", "cells"])
def test_batch_top_ten_is_the_brute_force_top_ten_for_every_seeker(employer, district, search, monkeypatch):
    monkeypatch.setattr(batch, "SEARCH", search)
    users = _city(employer, district)
    result = batch.recompute_city(progress=False, top=10, processes=1)
    assert result["exact_share"] == 1.0
    index = batch.CityIndex.build(now=timezone.now())
    reference = batch.brute_force_top(index, [u.pk for u in users], top=10)
    assert sum(1 for ref in reference.values() if len(ref) == 10) >= len(users) // 2  # a real test
    for user in users:
        stored = list(
            Suggestion.objects.filter(worker=user).order_by("rank").values_list("post_id", flat=True)
        )
        assert stored == reference[user.pk], user.name
