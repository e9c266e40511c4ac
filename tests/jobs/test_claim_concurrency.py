"""抢单 under real concurrency: hundreds of workers, each on its own thread and PostgreSQL connection,
released together by a barrier at a grab post with 5 slots. The service must confirm exactly 5 and refuse
the rest cleanly; the same harness, pointed at a deliberately naive read-then-write claim, must show the
overbooking it exists to catch.

PostgreSQL here allows 100 connections (shared with whoever else is testing), so the claims run on a
bounded pool of threads: every thread holds one connection and fires one claim per round, and a barrier
starts each round, so every round is a genuine race of ``THREADS`` transactions on the same post row.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import RealName, User, WorkerProfile
from core.crypto import blind_index
from core.errors import Conflict, DomainError
from core.masking import mask_id_number
from jobs import services
from jobs.models import Claim, Order, Post
from tests.factories import EmployerFactory, PostFactory, TradeFactory, id_number

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 200
THREADS = 40  # connections held at once; WORKERS / THREADS claims per thread
SLOTS = 5

Outcome = str  # "ok", a DomainError code, or "error:<repr>" for anything else


def _verified_workers(count: int, *, prefix: str = "1450") -> list[User]:
    """``count`` verified seekers, written in bulk (the factories would take a while for 200)."""
    users = User.objects.bulk_create(
        [
            User(phone=f"{prefix}{i:07d}", name=f"抢单工{i:03d}", role=User.Role.SEEKER, password="!")
            for i in range(count)
        ]
    )
    WorkerProfile.objects.bulk_create([WorkerProfile(user=u) for u in users])
    records = []
    for i, user in enumerate(users):
        number = id_number(i, birth=dt.date(1980, 1, 1) + dt.timedelta(days=i // 1000))
        records.append(
            RealName(
                user=user,
                name=user.name,
                id_number=number,
                id_index=blind_index(number, purpose="id_number"),
                id_masked=mask_id_number(number),
                birth_year=1980,
                status=RealName.Status.VERIFIED,
                method=RealName.Method.MANUAL,
            )
        )
    RealName.objects.bulk_create(records)
    users = list(User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"))
    assert all(u.is_verified for u in users)
    return users


def _race(calls: list[Callable[[], object]], *, threads: int = THREADS) -> list[Outcome]:
    """Run ``calls`` on ``threads`` threads, one connection each, a barrier releasing every round."""
    per_thread = -(-len(calls) // threads)
    chunks = [calls[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def run(chunk: list[Callable[[], object]]) -> None:
        try:
            for round_no in range(per_thread):
                barrier.wait(timeout=60)
                if round_no >= len(chunk):
                    continue  # a short chunk still joins every round, so the barrier never hangs
                try:
                    chunk[round_no]()
                    result = "ok"
                except DomainError as exc:
                    result = exc.code
                except Exception as exc:  # everything else is a bug the test must show
                    result = f"error:{exc!r}"
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(120)
    assert not any(t.is_alive() for t in workers), "a claim thread hung"
    assert len(outcomes) == len(calls)
    return outcomes


@pytest.fixture
def grab_post(db):
    employer = EmployerFactory(name="青溪市宏建建筑工程有限公司")
    trade = TradeFactory(name="建筑小工", category="construction", risk_class=4)
    return PostFactory(
        employer=employer, trade=trade, slots=SLOTS, mode=Post.Mode.GRAB, title="工地抢5名小工"
    )


def naive_claim(*, post: Post, worker: User) -> Claim:
    """The bug this test exists to catch: read the slots left, then write them back minus one."""
    with transaction.atomic():
        current = Post.objects.get(pk=post.pk)
        if current.status != Post.Status.OPEN or current.slots_left <= 0:
            raise Conflict("名额已满", code="full")
        time.sleep(0.002)  # the work between the read and the write (gates, checks) — the window
        left = current.slots_left - 1
        Post.objects.filter(pk=post.pk).update(
            slots_left=left, status=Post.Status.FILLED if left == 0 else Post.Status.OPEN
        )
        claim = Claim.objects.create(
            post=current, worker=worker, status=Claim.Status.CONFIRMED, decided_at=timezone.now()
        )
        Order.objects.create(
            claim=claim,
            post=current,
            worker=worker,
            employer_id=current.employer_id,
            starts_at=current.starts_at,
            ends_at=current.ends_at,
        )
        return claim


def test_200_parallel_grabs_confirm_exactly_the_slots(grab_post):
    workers = _verified_workers(WORKERS)
    started = time.monotonic()
    outcomes = _race([lambda w=w: services.claim_create(post=grab_post, worker=w) for w in workers])
    elapsed = time.monotonic() - started

    counts = Counter(outcomes)
    assert counts == {"ok": SLOTS, "full": WORKERS - SLOTS}, counts  # no other refusal, no exception
    grab_post.refresh_from_db()
    assert grab_post.slots_left == 0 and grab_post.status == Post.Status.FILLED
    assert Claim.objects.filter(post=grab_post).count() == SLOTS
    assert Claim.objects.filter(post=grab_post, status=Claim.Status.CONFIRMED).count() == SLOTS
    orders = Order.objects.filter(post=grab_post)
    assert orders.count() == SLOTS and orders.values("worker").distinct().count() == SLOTS
    assert all(hasattr(order, "contract") for order in orders)
    assert elapsed < 30, f"{WORKERS} claims took {elapsed:.1f}s"


def test_the_same_harness_catches_a_naive_read_then_write_claim(grab_post):
    workers = _verified_workers(WORKERS)
    outcomes = _race([lambda w=w: naive_claim(post=grab_post, worker=w) for w in workers])

    assert not [o for o in outcomes if o.startswith("error")]
    confirmed = Order.objects.filter(post=grab_post).count()
    assert outcomes.count("ok") == confirmed
    assert confirmed > SLOTS, "the naive claim did not overbook: the harness does not race"
    print(f"naive claim confirmed {confirmed} of {SLOTS} slots")


def test_one_worker_racing_for_two_overlapping_posts_gets_one_order(grab_post):
    """Ten workers each fire both of their claims at once (on separate connections) at two posts whose
    times overlap: the lock on the worker lets exactly one through per worker."""
    other = PostFactory(
        employer=grab_post.employer,
        trade=grab_post.trade,
        slots=20,
        mode=Post.Mode.GRAB,
        title="仓库卸货",
        starts_at=grab_post.starts_at + dt.timedelta(hours=2),
        ends_at=grab_post.ends_at + dt.timedelta(hours=2),
    )
    # A 20-slot twin of grab_post (created through the factory so its money is set aside like publishing does)
    grab_post = PostFactory(
        employer=grab_post.employer, trade=grab_post.trade, slots=20, mode=Post.Mode.GRAB, title="工地搬砖",
        starts_at=grab_post.starts_at, ends_at=grab_post.ends_at,
    )  # fmt: skip
    workers = _verified_workers(10, prefix="1460")
    calls = []
    for w in workers:
        calls.append(lambda w=w: services.claim_create(post=grab_post, worker=w))
        calls.append(lambda w=w: services.claim_create(post=other, worker=w))
    # 20 threads, one round: each worker's two claims start together on two connections
    outcomes = _race(calls, threads=len(calls))

    assert Counter(outcomes) == {"ok": 10, "overlap": 10}, Counter(outcomes)
    for w in workers:
        assert Order.objects.filter(worker=w).count() == 1
        assert Claim.objects.filter(worker=w).count() == 1
    grab_post.refresh_from_db()
    other.refresh_from_db()
    assert grab_post.slots_left + other.slots_left == 40 - 10
