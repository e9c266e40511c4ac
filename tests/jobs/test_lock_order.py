"""One lock order (jobs/services.py's docstring): a worker cancelling their order while the employer cancels
the whole post, on two PostgreSQL connections released together. Before, the worker's path locked the
order then the post and the employer's the post then the order: ``deadlock detected`` in 5 of 6 runs, a 500
for one side. Now both lock the post first; whichever comes second waits, then sees what the first did.

Run several rounds (each its own post and order) and also the other pairs that touch an order and its
post at once: a check-in, a dispute being filed, the no-show sweep."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection

from core.errors import DomainError
from jobs import services
from jobs.models import Order, Post
from tests.factories import EmployerFactory, PostFactory, TradeFactory, verified_seeker
from wallet.selectors import reconcile

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 8


def _pair(first: Callable[[], object], second: Callable[[], object]) -> list[str]:
    """Run both at once on their own connections; "ok", a domain refusal's code, or the error."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = ["", ""]

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            call()
            outcomes[index] = "ok"
        except DomainError as exc:
            outcomes[index] = exc.code or type(exc).__name__
        except Exception as exc:  # a deadlock, anything else: the bug this test exists for
            outcomes[index] = f"error:{exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


@pytest.fixture
def cast(db):
    employer = EmployerFactory(name="青溪市宏建建筑工程有限公司")
    trade = TradeFactory(name="建筑小工", category="construction", risk_class=3)
    workers = [verified_seeker(phone=f"1360000{i:04d}", name=f"工人{i}") for i in range(ROUNDS)]
    return employer, trade, workers


def _order(employer, trade, worker, *, slots: int = 3) -> Order:
    post = PostFactory(employer=employer, trade=trade, slots=slots, insurance_required=True)
    return services.claim_create(post=post, worker=worker).order


def test_worker_cancel_and_post_cancel_at_once_never_deadlock(cast):
    employer, trade, workers = cast
    boss = employer.created_by
    seen = []
    for worker in workers:
        order = _order(employer, trade, worker)
        post = order.post
        outcomes = _pair(
            lambda order=order, worker=worker: services.order_cancel_by_worker(order=order, worker=worker),
            lambda post=post: services.post_cancel(post=post, actor=boss, reason="项目取消"),
        )
        seen.append(outcomes)
        assert not [o for o in outcomes if o.startswith("error")], outcomes
        order.refresh_from_db()
        post.refresh_from_db()
        assert order.status == "cancelled" and post.status == "cancelled"
        # The worker's cancel either came first, or found the order already cancelled by the employer.
        assert outcomes[1] == "ok" and outcomes[0] in ("ok", "invalid_transition"), outcomes
    assert reconcile() == []


def test_check_in_dispute_and_no_show_sweep_against_post_cancel(cast):
    """Other paths through an order and its post, each against the employer cancelling the post."""
    from disputes import services as disputes

    employer, trade, workers = cast
    boss = employer.created_by
    for i, worker in enumerate(workers[:6]):
        order = _order(employer, trade, worker)
        post = order.post
        kind = ("check_in", "dispute", "no_show")[i % 3]
        moment = order.starts_at + (dt.timedelta(hours=1) if kind == "no_show" else dt.timedelta(0))
        if kind == "no_show":
            Post.objects.filter(pk=post.pk).update(starts_at=order.starts_at - dt.timedelta(hours=3))
            Order.objects.filter(pk=order.pk).update(starts_at=order.starts_at - dt.timedelta(hours=3))
        calls = {
            "check_in": lambda order=order, worker=worker: services.order_check_in(
                order=order, worker=worker
            ),
            "dispute": lambda order=order, worker=worker: disputes.case_file(
                actor=worker, order=order, category="other", description="工作内容和说的不一样"
            ),
            "no_show": lambda: services.orders_mark_no_show(),
        }
        with time_machine.travel(moment - dt.timedelta(minutes=5 if kind == "check_in" else 0), tick=False):
            outcomes = _pair(
                calls[kind], lambda post=post: services.post_cancel(post=post, actor=boss, reason="不干了")
            )
        assert not [o for o in outcomes if o.startswith("error")], (kind, outcomes)
    assert reconcile() == []
