"""What a worker sees right after a short 抢单 whose order is still being made (jobs/grabbing.py): the API
answers 「抢到了」 (confirmed, order_pending, no order yet), the page says 「正在生成订单…」 and reloads
itself, and the order's page takes over once the follow-on ran. Inside a test's transaction the task
queued after commit never runs, which is exactly the moment between the grab and its follow-on."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from jobs import followon
from jobs.models import Claim, Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deferred")]


@pytest.fixture
def deferred():
    with override_settings(GRAB_FOLLOWON_INLINE=False):
        yield


def test_the_api_answers_confirmed_before_the_order_exists(post, worker):
    client = APIClient()
    _, token = AuthToken.objects.create(user=worker)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.post(reverse("api:post-claims", args=[post.pk]), {}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "confirmed" and body["order_pending"] is True and body["order_id"] is None
    claim = Claim.objects.get(pk=body["id"])
    followon.complete_locked(Claim.objects.select_related("worker").get(pk=claim.pk))
    again = client.get(reverse("api:me-claims")).json()["results"][0]
    assert again["order_pending"] is False and again["order_id"] == Order.objects.get(claim=claim).pk


def test_the_page_says_grabbed_and_making_the_order_then_opens_the_order(client, post, worker):
    client.force_login(worker)
    response = client.post(reverse("jobs:claim", args=[post.pk]))
    claim = Claim.objects.get(post=post, worker=worker)
    assert response["Location"] == reverse("jobs:claim_status", args=[claim.pk])

    page = client.get(response["Location"]).content.decode()
    assert "抢到了" in page and "正在生成订单…" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    # the pending claim cannot be cancelled yet: a clear message, not an error page
    withdraw = client.post(reverse("jobs:claim_withdraw", args=[claim.pk]), follow=True)
    assert withdraw.status_code == 200 and "订单正在生成" in withdraw.content.decode()

    followon.complete_locked(Claim.objects.select_related("worker").get(pk=claim.pk))
    order = Order.objects.get(claim=claim)
    assert client.get(response["Location"])["Location"] == reverse("jobs:order_detail", args=[order.pk])


def test_another_worker_gets_404_on_the_claim_page(client, post, worker, worker2):
    client.force_login(worker)
    client.post(reverse("jobs:claim", args=[post.pk]))
    claim = Claim.objects.get(post=post, worker=worker)
    client.force_login(worker2)
    assert client.get(reverse("jobs:claim_status", args=[claim.pk])).status_code == 404
