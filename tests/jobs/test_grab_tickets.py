"""Tickets in front of the database (jobs/grab_front.py): a grab post's counter of free slots in the cache.

Only about as many grabs as there are free slots may reach PostgreSQL; the rest get the identical
「名额已满」 at once. The database stays the judge: the counter is made only from its committed free slots,
a ticket-holder it refuses gives the ticket back, a freed slot deletes the counter, a lost ticket heals
when the counter expires, and with Redis gone every grab takes the database path. Under real concurrency
through the API, with refused ticket-holders in the crowd, the post confirms exactly its slots.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User, WorkerProfile
from jobs import grab_front, services
from jobs.models import Claim, Order, Post
from jobs.reconcile import reconcile_orders
from tests.factories import TradeFactory
from tests.jobs.test_claim_concurrency import _verified_workers
from tests.jobs.test_grab_followon import _posts
from tests.outage import closed_port_url, use_cache

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trade(db):
    return TradeFactory(name="搬运", category="logistics", risk_class=4)


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def _grab(client: APIClient, post: Post, **extra):
    return client.post(f"/api/v1/posts/{post.pk}/claims/", {"note": ""}, format="json", **extra)


def _tickets(post: Post) -> int | None:
    return grab_front.cache.get(grab_front._tickets_key(post.pk))


def _set_tickets(post: Post, value: int) -> None:
    grab_front.cache.set(grab_front._tickets_key(post.pk), value, timeout=grab_front.TICKET_SECONDS)


def _unverified(count: int, prefix: str) -> list[User]:
    users = User.objects.bulk_create(
        [
            User(phone=f"{prefix}{i:07d}", name=f"未实名{i}", role=User.Role.SEEKER, password="!")
            for i in range(count)
        ]
    )
    WorkerProfile.objects.bulk_create([WorkerProfile(user=u) for u in users])
    return users


def test_the_first_grab_makes_the_counter_from_the_database_and_a_ticket_is_spent_per_confirmation(trade):
    (post,) = _posts(trade, 1, 4)
    first, second = _verified_workers(2, prefix="1491")
    assert _tickets(post) is None

    assert _grab(_api(first), post).status_code == 201  # no counter yet: the database path, then made
    assert _tickets(post) == 3
    assert _grab(_api(second), post).status_code == 201  # took a ticket and kept it
    assert _tickets(post) == 2


def test_no_ticket_left_gets_the_apis_own_full_answer_before_the_database(trade):
    (post,) = _posts(trade, 1, 3)
    first, second = _verified_workers(2, prefix="1492")
    _grab(_api(first), post)
    _set_tickets(post, 0)  # the two free slots are held by grabs still in flight

    response = _grab(_api(second), post)

    assert response.status_code == 409 and response["X-Grab-Front"] == "tickets"
    assert response.content == grab_front.FULL_BODY
    assert not Claim.objects.filter(post=post, worker=second).exists()
    post.refresh_from_db()
    assert post.slots_left == 2  # the database was not asked
    assert _tickets(post) == 0


def test_a_ticket_holder_the_database_refuses_gives_the_ticket_back(trade):
    (post,) = _posts(trade, 1, 3)
    first, second = _verified_workers(2, prefix="1493")
    (stranger,) = _unverified(1, prefix="1494")
    client = _api(first)
    _grab(client, post)
    assert _tickets(post) == 2

    assert _grab(_api(stranger), post).status_code == 403  # not verified
    assert _tickets(post) == 2
    assert _grab(client, post).status_code == 409  # a duplicate
    assert _tickets(post) == 2
    assert _grab(APIClient(), post, HTTP_AUTHORIZATION="Token nonsense").status_code == 401
    assert _tickets(post) == 2
    assert _grab(_api(second), post).status_code == 201
    assert _tickets(post) == 1


def test_the_last_ticket_refused_by_the_database_comes_back_for_the_next_grabber(trade):
    (post,) = _posts(trade, 1, 2)
    first, second = _verified_workers(2, prefix="1495")
    (stranger,) = _unverified(1, prefix="1496")
    _grab(_api(first), post)
    assert _tickets(post) == 1

    assert _grab(_api(stranger), post).status_code == 403
    response = _grab(_api(second), post)

    assert response.status_code == 201
    post.refresh_from_db()
    assert post.slots_left == 0 and post.status == Post.Status.FILLED


def test_a_freed_slot_deletes_the_counter_and_the_next_grab_makes_it_again(trade):
    (post,) = _posts(trade, 1, 2)
    first, second, third = _verified_workers(3, prefix="1497")
    _grab(_api(first), post)
    _set_tickets(post, 0)  # as if a ticket were lost with its process
    order = Order.objects.get(post=post, worker=first)

    services.order_cancel_by_worker(order=order, worker=first, reason="家里有事")

    assert _tickets(post) is None
    assert _grab(_api(second), post).status_code == 201
    assert _tickets(post) == 1
    assert _grab(_api(third), post).status_code == 201


def test_a_lost_ticket_hides_a_slot_only_until_the_counter_expires(trade, monkeypatch):
    monkeypatch.setattr(grab_front, "TICKET_SECONDS", 1)
    (post,) = _posts(trade, 1, 2)
    first, second = _verified_workers(2, prefix="1498")
    _grab(_api(first), post)
    grab_front.cache.set(grab_front._tickets_key(post.pk), 0, timeout=1)  # its one ticket was lost
    client = _api(second)
    assert _grab(client, post)["X-Grab-Front"] == "tickets"

    time.sleep(1.2)

    assert _grab(client, post).status_code == 201


def test_a_counter_read_before_a_forget_is_not_made(trade):
    (post,) = _posts(trade, 1, 2)
    _, seen = grab_front.admit(post.pk)  # no counter: the generation is read, then the database
    grab_front.forget(post.pk)  # meanwhile something reopened the post

    assert grab_front.open_tickets(post.pk, seen) is False
    assert _tickets(post) is None
    _, seen = grab_front.admit(post.pk)
    assert grab_front.open_tickets(post.pk, seen) is True
    assert _tickets(post) == 2


def test_no_counter_for_a_post_that_does_not_take_grabs(trade):
    (apply,) = _posts(trade, 1, 2)
    Post.objects.filter(pk=apply.pk).update(mode=Post.Mode.APPLY)
    _, seen = grab_front.admit(apply.pk)

    assert grab_front.open_tickets(apply.pk, seen) is False
    assert _tickets(apply) is None


def test_with_redis_down_every_grab_takes_the_database_path(trade, settings):
    (post,) = _posts(trade, 1, 2)
    workers = _verified_workers(3, prefix="1499")
    clients = [_api(w) for w in workers]
    use_cache(settings, closed_port_url(), "gmtest-tickets-down")

    answers = [_grab(c, post) for c in clients]

    assert [r.status_code for r in answers] == [201, 201, 409]
    assert not any(r.get("X-Grab-Front") for r in answers)
    post.refresh_from_db()
    assert post.slots_left == 0


def test_a_crowd_with_refused_ticket_holders_fills_exactly_the_slots(trade):
    """36 grabbers (a third not verified: every one a ticket-holder the database refuses) on 12 threads at
    2 posts × 4 with their counters made; the refused verified grabbers try once more afterwards, as a
    phone would. No post takes more than its slots; no slot stays hidden; every ticket is accounted for."""
    posts = _posts(trade, 2, 4)
    for post in posts:
        _, seen = grab_front.admit(post.pk)
        assert grab_front.open_tickets(post.pk, seen)
    verified = _verified_workers(24, prefix="1500")
    strangers = _unverified(12, prefix="1501")
    crowd = [(_api(w), posts[i % 2], True) for i, w in enumerate(verified)]
    crowd += [(_api(w), posts[i % 2], False) for i, w in enumerate(strangers)]
    crowd = crowd[::2] + crowd[1::2]
    barrier = threading.Barrier(12)
    answers: list[tuple[int, str, bool, APIClient, Post]] = []
    lock = threading.Lock()

    def run(chunk):
        try:
            for client, post, ok in chunk:
                barrier.wait(30)
                response = _grab(client, post)
                with lock:
                    answers.append((response.status_code, response.get("X-Grab-Front", ""), ok, client, post))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(crowd[i::12],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert len(answers) == 36
    assert all(status == 403 for status, front, ok, *_ in answers if not ok and not front)
    for status, _, ok, client, post in answers:
        if ok and status == 409:
            _grab(client, post)  # the retry
    statuses = Counter(status for status, *_ in answers)
    assert statuses[201] <= 8
    for post in posts:
        post.refresh_from_db()
        assert post.slots_left == 0 and post.status == Post.Status.FILLED
        assert Claim.objects.filter(post=post, status=Claim.Status.CONFIRMED).count() == 4
        assert (_tickets(post) or 0) >= 0
    assert reconcile_orders() == []
