"""``jobs.serializers.represent``: a serializer kept per thread answers what a new one would, whatever came
before it (the 抢单 API answers its claim through it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from jobs import services
from jobs.models import Claim
from jobs.serializers import ClaimSerializer, OrderSerializer, represent
from tests.factories import EmployerFactory, PostFactory, verified_seeker

pytestmark = pytest.mark.django_db


def test_the_kept_serializer_answers_what_a_new_one_would_for_every_kind_of_claim(settings):
    settings.GRAB_FOLLOWON_INLINE = True
    boss_employer = EmployerFactory()
    grab_post = PostFactory(employer=boss_employer, slots=2, mode="grab", title="抢单的活")
    later = timezone.now() + dt.timedelta(days=5)
    apply_post = PostFactory(
        starts_at=later,
        ends_at=later + dt.timedelta(hours=8),
        employer=EmployerFactory(),
        slots=1,
        mode="apply",
        title="报名的活",
        lat=None,
        lng=None,
    )
    first, second = verified_seeker(phone="13600007001"), verified_seeker(phone="13600007002")
    confirmed = services.claim_create(post=grab_post, worker=first, note="准时到")
    pending = services.claim_create(post=apply_post, worker=second)
    rejected = services.claim_create(post=apply_post, worker=first)
    Claim.objects.filter(pk=rejected.pk).update(
        status=Claim.Status.REJECTED, reject_reason="人已招满", decided_at=timezone.now()
    )
    claims = [Claim.objects.get(pk=c.pk) for c in (confirmed, pending, rejected)]
    claims.append(Claim(post=grab_post, worker=second, status=Claim.Status.CONFIRMED, order_pending=True))
    for claim in claims * 2:  # and again, after the others went through the same instance
        assert represent(ClaimSerializer, claim) == ClaimSerializer(claim).data
    order = confirmed.order
    assert represent(OrderSerializer, order) == OrderSerializer(order).data
    assert represent(ClaimSerializer, claims[0]) == ClaimSerializer(claims[0]).data


def test_the_grab_api_answers_the_documented_claim(settings):
    settings.GRAB_FOLLOWON_INLINE = False
    post = PostFactory(employer=EmployerFactory(), slots=3, mode="grab")
    worker = verified_seeker(phone="13600007003")
    client = APIClient()
    client.force_authenticate(worker)
    answered = client.post(f"/api/v1/posts/{post.pk}/claims/", {"note": "到了打电话"}, format="json")
    assert answered.status_code == 201, answered.content
    claim = Claim.objects.get(post=post, worker=worker)
    assert answered.json() == ClaimSerializer(claim).data | {"post": answered.json()["post"]}
    assert answered.json()["post"]["id"] == post.pk and answered.json()["order_pending"] is True
    assert answered.json()["order_id"] is None and answered.json()["note"] == "到了打电话"
