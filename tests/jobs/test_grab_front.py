"""The front's 「名额已满」 (jobs/grab_front.py): a full post's grabs answered from a mark in the cache.

The answer must be the API's own 409, byte for byte; a mark must never outlive a freed slot (an undone
claim, a cancelled order, a writer that read 「已满」 just before the slot was freed), a cancelled post
must answer as cancelled, an Idempotency-Key replay still reaches the view, and with Redis gone every
grab takes the database path and is still right. Under real concurrency through the API the post still
confirms exactly its slots.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from jobs import followon, grab_front, grabbing, services
from jobs.models import Claim, Order, Post
from jobs.reconcile import reconcile_orders
from tests.factories import TradeFactory
from tests.jobs.test_claim_concurrency import _verified_workers
from tests.jobs.test_grab_followon import _posts
from tests.outage import closed_port_url, use_cache

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEFERRED = override_settings(GRAB_FOLLOWON_INLINE=False)


@pytest.fixture
def trade(db):
    return TradeFactory(name="搬运", category="logistics", risk_class=4)


@pytest.fixture
def broker_down(monkeypatch):
    monkeypatch.setattr(grabbing, "queue_followon", lambda *args, **kwargs: None)


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


def _grab(client: APIClient, post: Post, **extra):
    return client.post(f"/api/v1/posts/{post.pk}/claims/", {"note": ""}, format="json", **extra)


def _from_front(response) -> bool:
    return response.get("X-Grab-Front") == "full"


def test_the_front_answers_a_filled_post_with_the_apis_own_409(trade):
    (post,) = _posts(trade, 1, 1)
    first, second, third = _verified_workers(3, prefix="1480")

    assert _grab(_api(first), post).status_code == 201  # took the last slot: marked on commit
    assert grab_front.is_marked_full(post.pk)
    grab_front.cache.delete(grab_front._mark_key(post.pk))
    by_view = _grab(_api(second), post)  # no mark: the view refuses, and marks it again
    assert by_view.status_code == 409 and not _from_front(by_view)
    by_front = _grab(_api(third), post)

    assert _from_front(by_front)
    assert by_front.status_code == 409
    assert by_front.content == by_view.content
    assert by_front.json() == {"code": "full", "detail": "名额已满", "fields": {}}
    assert by_front["Content-Type"] == by_view["Content-Type"] == "application/json"
    # the security headers of the stack in front of it are there too
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"):
        assert by_front.get(header) == by_view.get(header), header
    # anyone may hear that a post is full: no token needed for that answer
    assert _from_front(_grab(APIClient(), post))


@DEFERRED
def test_a_grab_that_loses_the_guarded_update_marks_the_post(trade, monkeypatch):
    """The first grab holds the last slot uncommitted; the second read the post open, waits on the row in
    its guarded UPDATE, finds no slot after the first commits, and marks the post for the front."""
    (post,) = _posts(trade, 1, 1)
    first, second = _verified_workers(2, prefix="1481")
    holding, release = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def hold_before_commit(*args, **kwargs):  # runs inside the first grab's transaction, after the slot
        if threading.current_thread().name == "first":
            holding.set()
            release.wait(30)

    monkeypatch.setattr(grabbing, "queue_followon", hold_before_commit)

    def run(worker, name):
        try:
            grabbing.claim(post=Post.objects.get(pk=post.pk), worker=worker)
            outcomes[name] = "ok"
        except Exception as exc:
            outcomes[name] = getattr(exc, "code", repr(exc))
        finally:
            connection.close()

    a = threading.Thread(target=run, args=(first, "first"), name="first")
    a.start()
    assert holding.wait(30)
    b = threading.Thread(target=run, args=(second, "second"), name="second")
    b.start()
    b.join(1.0)  # blocked on the post's row
    assert b.is_alive() and not grab_front.is_marked_full(post.pk)
    release.set()
    a.join(30)
    b.join(30)

    assert outcomes == {"first": "ok", "second": "full"}
    assert grab_front.is_marked_full(post.pk)


@DEFERRED
def test_an_undone_claim_clears_the_mark_and_the_freed_slot_can_be_grabbed(trade, broker_down):
    (post,) = _posts(trade, 1, 1)
    first, second = _verified_workers(2, prefix="1482")
    claim = Claim.objects.get(pk=_grab(_api(first), post).json()["id"])
    assert _from_front(_grab(_api(second), post))
    # The follow-on cannot make the order (the post's hold is short): the claim is undone, the slot freed.
    from wallet import ledger
    from wallet.models import LedgerTransaction

    hold, account = ledger.post_hold(post), ledger.employer_account(post.employer)
    ledger.transfer(
        key="test:drain", kind=LedgerTransaction.Kind.ADJUSTMENT,
        legs=[(hold, -hold.balance_fen), (account, hold.balance_fen)],
    )  # fmt: skip
    assert followon.complete(claim.pk) == "undone"

    assert not grab_front.is_marked_full(post.pk)
    # (its money went back to the employer, so this grab's follow-on would be undone too; the slot is
    # offered all the same, which is what the mark must not hide)
    assert _grab(_api(second), post).status_code == 201


def test_a_cancelled_order_frees_the_slot_and_the_front_lets_grabs_through(trade):
    (post,) = _posts(trade, 1, 1)
    first, second = _verified_workers(2, prefix="1483")
    _grab(_api(first), post)
    assert grab_front.is_marked_full(post.pk)
    order = Order.objects.get(post=post, worker=first)

    services.order_cancel_by_worker(order=order, worker=first, reason="家里有事")

    assert not grab_front.is_marked_full(post.pk)
    response = _grab(_api(second), post)
    assert response.status_code == 201 and not _from_front(response)
    assert Claim.objects.filter(post=post, status=Claim.Status.CONFIRMED).count() == 1


def test_a_mark_written_from_a_read_before_a_slot_was_freed_is_not_believed(trade):
    (post,) = _posts(trade, 1, 1)
    (worker,) = _verified_workers(1, prefix="1484")
    seen = grab_front.generation(post.pk)  # a grab reads the generation, then the post: full
    grab_front.forget(post.pk)  # meanwhile a slot is freed and its commit forgets the post's marks
    grab_front.mark_full(post.pk, seen)  # the slow grab now writes its mark

    assert not grab_front.is_marked_full(post.pk)
    assert _grab(_api(worker), post).status_code == 201


def test_a_cancelled_full_post_answers_cancelled_not_full(trade):
    (post,) = _posts(trade, 1, 1)
    first, second = _verified_workers(2, prefix="1485")
    _grab(_api(first), post)
    assert grab_front.is_marked_full(post.pk)

    services.post_cancel(post=post, actor=post.employer.created_by, reason="天气原因")

    response = _grab(_api(second), post)
    assert response.status_code == 409 and not _from_front(response)
    assert response.json()["code"] == "post_cancelled"


def test_an_idempotent_replay_on_a_full_post_still_gets_its_first_answer(trade):
    (post,) = _posts(trade, 1, 1)
    (worker,) = _verified_workers(1, prefix="1486")
    client = _api(worker)
    first = _grab(client, post, HTTP_IDEMPOTENCY_KEY="grab-key-0001")
    assert first.status_code == 201 and grab_front.is_marked_full(post.pk)

    again = _grab(client, post, HTTP_IDEMPOTENCY_KEY="grab-key-0001")

    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_with_redis_down_every_grab_takes_the_database_path_and_is_right(trade, settings):
    (post,) = _posts(trade, 1, 2)
    workers = _verified_workers(4, prefix="1487")
    clients = [_api(w) for w in workers]  # tokens made while the cache still answers
    use_cache(settings, closed_port_url(), "gmtest-front-down")

    answers = [_grab(c, post) for c in clients]

    assert [r.status_code for r in answers] == [201, 201, 409, 409]
    assert not any(_from_front(r) for r in answers)
    assert answers[3].json() == {"code": "full", "detail": "名额已满", "fields": {}}
    post.refresh_from_db()
    assert post.slots_left == 0 and post.status == Post.Status.FILLED


def test_without_redis_the_api_grab_works_and_the_front_answers_from_the_mark(trade, settings):
    """Development's embedded defaults (``scripts/run`` without Redis) keep the cache in the process: no
    tickets to count there, so the front asks the full mark alone — never a 500."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert settings.GRAB_TICKETS
    (post,) = _posts(trade, 1, 2)
    clients = [_api(w) for w in _verified_workers(4, prefix="1488")]

    answers = [_grab(c, post) for c in clients]

    assert [r.status_code for r in answers] == [201, 201, 409, 409]
    # The grab that took the last slot marked the post on its commit: the front answers the rest.
    assert not any(_from_front(r) for r in answers[:2]) and all(_from_front(r) for r in answers[2:])
    assert answers[3].json() == {"code": "full", "detail": "名额已满", "fields": {}}
    post.refresh_from_db()
    assert post.slots_left == 0 and post.status == Post.Status.FILLED


@DEFERRED
def test_redis_lost_mid_rush_then_back_no_oversell_and_no_stale_full(trade, broker_down, settings):
    """The mark is written, Redis goes away (a slot is freed meanwhile, its forget lost), Redis comes back:
    the slot is not hidden longer than the mark lives, and the post never takes more than its slots."""
    (post,) = _posts(trade, 1, 1)
    first, second, third = _verified_workers(3, prefix="1488")
    claim = Claim.objects.get(pk=_grab(_api(first), post).json()["id"])
    up = settings.CACHES
    clients = [_api(second), _api(third)]
    use_cache(settings, closed_port_url(), "gmtest-front-down")
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.UNDONE, order_pending=False)
    services._free_slot(post.pk)  # committed at once (autocommit); its forget cannot reach Redis
    assert _grab(clients[0], post).status_code == 201  # the database path takes the freed slot
    settings.CACHES = up
    from tests.outage import reset_breakers

    reset_breakers()
    late = _grab(clients[1], post)
    assert late.status_code == 409  # full either way: from a mark or from the database
    assert Claim.objects.filter(post=post, status=Claim.Status.CONFIRMED).count() == 1
    post.refresh_from_db()
    assert post.slots_left == 0


def test_parallel_api_grabs_confirm_exactly_the_slots_and_the_rest_get_the_same_409(trade):
    """48 workers through the whole stack (middleware, token auth, view) on 12 threads at 2 posts × 3."""
    posts = _posts(trade, 2, 3)
    workers = _verified_workers(48, prefix="1489")
    clients = [(_api(w), posts[i % 2]) for i, w in enumerate(workers)]
    barrier = threading.Barrier(12)
    answers: list[tuple[int, bytes, bool]] = []
    lock = threading.Lock()

    def run(chunk):
        try:
            for client, post in chunk:
                barrier.wait(30)
                response = _grab(client, post)
                with lock:
                    answers.append((response.status_code, response.content, _from_front(response)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(clients[i::12],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert Counter(status for status, _, _ in answers) == {201: 6, 409: 42}
    refusals = {body for status, body, _ in answers if status == 409}
    full_body = grab_front.FULL_BODY
    assert all(b'"code":"full"' in body for body in refusals)
    assert any(front for _, _, front in answers)  # the later rounds were answered in front
    assert full_body in refusals
    for post in posts:
        post.refresh_from_db()
        assert post.slots_left == 0
        assert Claim.objects.filter(post=post, status=Claim.Status.CONFIRMED).count() == 3
    assert reconcile_orders() == []


@DEFERRED
def test_one_follow_on_task_per_post_sees_every_grab_committed_before_or_after_it_starts(trade, monkeypatch):
    """Grabs of one post queue one task while it is queued; the task forgets its key before it looks, so a
    grab committed while it runs queues the next one; every claim ends with its order."""
    (post,) = _posts(trade, 1, 4)
    workers = _verified_workers(4, prefix="1490")
    queued: list[int] = []
    monkeypatch.setattr(followon, "dispatch", lambda name, post_id: queued.append(post_id) or "sent")

    claims = [grabbing.claim(post=post, worker=w) for w in workers[:3]]
    assert queued == [post.pk]  # three grabs, one task on its way

    assert followon.complete_post(post.pk) == {"done": 3, "undone": 0, "skipped": 0}
    for claim in claims:
        claim.refresh_from_db()
        assert not claim.order_pending and Order.objects.filter(claim=claim).exists()
    grabbing.claim(post=post, worker=workers[3])  # after the task forgot its key: a new task
    assert queued == [post.pk, post.pk]
    assert followon.complete_post(post.pk)["done"] == 1
    assert followon.complete_post(post.pk) == {"done": 0, "undone": 0, "skipped": 0}
    assert reconcile_orders() == []


@DEFERRED
def test_the_follow_on_waits_the_set_delay_and_a_task_the_broker_refused_is_tried_again(
    trade, monkeypatch, settings
):
    """A rush's grabs get the box first: the post's task is queued GRAB_FOLLOWON_DELAY_SECONDS ahead, one
    for all the grabs meanwhile. A task the broker did not take (None) leaves no key: the next grab queues
    again rather than leaving its order to the sweep."""
    settings.GRAB_FOLLOWON_DELAY_SECONDS = 2
    (post,) = _posts(trade, 1, 4)
    workers = _verified_workers(4, prefix="1491")
    later: list[tuple[str, float, int]] = []
    monkeypatch.setattr(followon, "dispatch", lambda *args: pytest.fail("queued without its delay"))
    monkeypatch.setattr(
        followon,
        "dispatch_later",
        lambda name, seconds, post_id: later.append((name, seconds, post_id)) or "sent",
    )
    grabbing.claim(post=post, worker=workers[0])
    grabbing.claim(post=post, worker=workers[1])
    assert later == [("jobs.tasks.grab_followon_post", 2, post.pk)]  # one task, two seconds ahead

    assert followon.complete_post(post.pk)["done"] == 2  # the task forgets the key first
    refused: list[int] = []
    monkeypatch.setattr(followon, "dispatch_later", lambda name, seconds, post_id: refused.append(post_id))
    grabbing.claim(post=post, worker=workers[2])
    grabbing.claim(post=post, worker=workers[3])
    assert refused == [post.pk, post.pk]  # the broker took neither: each grab tried
    assert followon.complete_post(post.pk)["done"] == 2
    assert reconcile_orders() == []
