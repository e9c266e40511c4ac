"""The services apply the order windows of jobs.rules at their edges (tests/jobs/test_rules.py pins the
rules themselves): a worker's cancel exactly 30 minutes after confirming and exactly 24 hours before the
start, each half on its own; an employer cancelling exactly 12 hours before the start; check-in exactly 60
minutes before the start and at the radius; a whole post cancelled at the start and at the end of the
no-show grace."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import time_machine

from core.errors import DomainError, InvalidTransition
from jobs import services
from jobs.models import Order, WorkerStats
from jobs.rules import distance_m
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def soon_post(employer, trade, street):
    """Starts in 3 hours: only the 30 minutes after confirming are free for the worker."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=3)
    return PostFactory(employer=employer, trade=trade, area=street, slots=2, starts_at=start)


@pytest.fixture
def far_post(employer, trade, street):
    """Starts in 3 days: the worker's cancel is free until 24 hours before the start."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    return PostFactory(employer=employer, trade=trade, area=street, slots=2, starts_at=start)


def confirmed(post, worker, moment) -> Order:
    with at(moment):
        return services.claim_create(post=post, worker=worker).order


@pytest.mark.parametrize(
    ("after", "late"), [(dt.timedelta(minutes=30), False), (dt.timedelta(minutes=30) + SECOND, True)]
)
def test_worker_cancel_30_minutes_after_confirming(soon_post, worker, after, late):
    order = confirmed(soon_post, worker, soon_post.starts_at - dt.timedelta(hours=2))
    with at(order.confirmed_at + after):
        services.order_cancel_by_worker(order=order, worker=worker, reason="家里有事")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.late_cancel is late
    assert WorkerStats.objects.get(user=worker).late_cancels == int(late)


@pytest.mark.parametrize(
    ("before", "late"), [(dt.timedelta(hours=24), False), (dt.timedelta(hours=24) - SECOND, True)]
)
def test_worker_cancel_24_hours_before_the_start_long_after_confirming(far_post, worker, before, late):
    order = confirmed(far_post, worker, far_post.starts_at - dt.timedelta(days=2))
    with at(far_post.starts_at - before):
        services.order_cancel_by_worker(order=order, worker=worker)
    order.refresh_from_db()
    assert order.late_cancel is late


@pytest.mark.parametrize(
    ("before", "compensation"), [(dt.timedelta(hours=12), 0), (dt.timedelta(hours=12) - SECOND, 4000)]
)
def test_employer_cancel_exactly_12_hours_before_the_start(far_post, worker, boss, before, compensation):
    order = confirmed(far_post, worker, far_post.starts_at - dt.timedelta(days=2))
    with at(far_post.starts_at - before):
        services.order_cancel_by_employer(order=order, actor=boss, reason="工期推迟")
    order.refresh_from_db()
    assert order.late_cancel is bool(compensation)
    assert order.compensation_fen == compensation  # 20 % of 200 yuan


@pytest.mark.parametrize(
    ("before", "opens"), [(dt.timedelta(minutes=60), True), (dt.timedelta(minutes=60) + SECOND, False)]
)
def test_check_in_opens_exactly_60_minutes_before_the_start(soon_post, worker, before, opens):
    order = confirmed(soon_post, worker, soon_post.starts_at - dt.timedelta(hours=2))
    with at(soon_post.starts_at - before):
        if opens:
            services.order_check_in(order=order, worker=worker)
        else:
            with pytest.raises(DomainError, match="开工前60分钟才能签到") as info:
                services.order_check_in(order=order, worker=worker)
            assert info.value.code == "too_early"
    order.refresh_from_db()
    assert (order.status == Order.Status.CHECKED_IN) is opens


@pytest.mark.parametrize(("before", "opens"), [(dt.timedelta(0), True), (SECOND, False)])
def test_check_out_and_the_hours_report_open_exactly_at_the_start(soon_post, worker, before, opens):
    order = confirmed(soon_post, worker, soon_post.starts_at - dt.timedelta(hours=2))
    with at(soon_post.starts_at - dt.timedelta(minutes=30)):
        services.order_check_in(order=order, worker=worker)
    with at(soon_post.starts_at - before):
        if opens:
            services.order_check_out(order=order, worker=worker, quantity="1")
        else:
            with pytest.raises(DomainError, match="还没到开工时间") as info:
                services.order_check_out(order=order, worker=worker, quantity="1")
            assert info.value.code == "not_started"
    order.refresh_from_db()
    assert (order.status == Order.Status.CHECKED_OUT) is opens
    assert (order.worker_quantity is not None) is opens


@pytest.mark.parametrize(("rounding", "refused"), [(math.ceil, False), (math.floor, True)])
def test_check_in_at_the_radius(settings, soon_post, worker, rounding, refused):
    lat = soon_post.lat + 0.0089  # about 990 metres north of the post
    meters = distance_m(lat, soon_post.lng, soon_post.lat, soon_post.lng)
    assert 980 < meters < 1000 and meters != int(meters)
    # the radius just above the distance lets the worker in, the one just below does not
    settings.JOBS_RULES = {**settings.JOBS_RULES, "CHECK_IN_RADIUS_METERS": rounding(meters)}
    order = confirmed(soon_post, worker, soon_post.starts_at - dt.timedelta(hours=2))
    with at(soon_post.starts_at):
        if refused:
            with pytest.raises(DomainError) as info:
                services.order_check_in(order=order, worker=worker, lat=lat, lng=soon_post.lng)
            assert info.value.code == "too_far"
        else:
            services.order_check_in(order=order, worker=worker, lat=lat, lng=soon_post.lng)
    order.refresh_from_db()
    assert (order.status == Order.Status.CHECKED_IN) is not refused


@pytest.mark.parametrize(
    ("after", "outcome"),
    [
        (-SECOND, Order.Status.CANCELLED),  # before the start: cancelled by the employer
        (dt.timedelta(0), None),  # the grace: the worker may still come, the post cannot be cancelled
        (dt.timedelta(minutes=30) - SECOND, None),
        (dt.timedelta(minutes=30), Order.Status.NO_SHOW),  # after the grace: the worker did not come
    ],
)
def test_a_whole_post_cancelled_around_the_no_show_grace(soon_post, worker, boss, after, outcome):
    order = confirmed(soon_post, worker, soon_post.starts_at - dt.timedelta(hours=2))
    with at(soon_post.starts_at + after):
        if outcome is None:
            with pytest.raises(InvalidTransition, match="工人仍可签到"):
                services.post_cancel(post=soon_post, actor=boss, reason="下雨停工")
        else:
            services.post_cancel(post=soon_post, actor=boss, reason="下雨停工")
    order.refresh_from_db()
    assert order.status == (outcome or Order.Status.CONFIRMED)
