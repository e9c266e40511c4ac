"""Training sign-up under real concurrency (PostgreSQL, one connection per thread, rounds released by a
barrier — the harness of tests/jobs/test_claim_concurrency.py): seats are never overbooked, a worker never
holds two live sign-ups for one course, and the same harness catches a naive read-then-write sign-up."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import transaction

from accounts.models import User
from core.errors import Conflict
from outreach import services
from outreach.models import Course, Enrollment
from tests.factories import ServicePointFactory, TradeFactory
from tests.jobs.test_claim_concurrency import _race

from .conftest import make_course

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 120
THREADS = 30
SEATS = 7


def _seekers(count: int, prefix: str) -> list[User]:
    users = User.objects.bulk_create(
        [
            User(phone=f"{prefix}{i:07d}", name=f"学员{i:03d}", role=User.Role.SEEKER, password="!")
            for i in range(count)
        ]
    )
    return list(User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"))


@pytest.fixture
def course(db):
    return make_course(ServicePointFactory(), trade=TradeFactory(name="育婴师"), seats=SEATS)


def naive_signup(*, course: Course, worker: User) -> Enrollment:
    """The bug the test exists to catch: read the seats left, then write them back minus one."""
    with transaction.atomic():
        current = Course.objects.get(pk=course.pk)
        if current.seats_left <= 0:
            raise Conflict("名额已满", code="full")
        time.sleep(0.002)
        Course.objects.filter(pk=course.pk).update(seats_left=current.seats_left - 1)
        return Enrollment.objects.create(course=current, worker=worker)


def test_parallel_signups_never_overbook(course):
    workers = _seekers(WORKERS, "1470")
    outcomes = _race(
        [lambda w=w: services.training_signup(course=course, worker=w) for w in workers], threads=THREADS
    )
    assert Counter(outcomes) == {"ok": SEATS, "full": WORKERS - SEATS}, Counter(outcomes)
    course.refresh_from_db()
    assert course.seats_left == 0
    assert Enrollment.objects.filter(course=course).count() == SEATS  # the refused left no row behind


def test_the_harness_catches_a_naive_signup(course):
    workers = _seekers(WORKERS, "1471")
    outcomes = _race([lambda w=w: naive_signup(course=course, worker=w) for w in workers], threads=THREADS)
    assert not [o for o in outcomes if o.startswith("error")]
    assert Enrollment.objects.filter(course=course).count() > SEATS, "the naive sign-up did not overbook"


def test_one_worker_signing_up_twice_at_once_gets_one_seat(course):
    Course.objects.filter(pk=course.pk).update(seats=30, seats_left=30)
    workers = _seekers(10, "1472")
    calls = []
    for w in workers:
        calls += [lambda w=w: services.training_signup(course=course, worker=w)] * 2
    outcomes = _race(calls, threads=len(calls))
    assert Counter(outcomes) == {"ok": 10, "duplicate": 10}, Counter(outcomes)
    course.refresh_from_db()
    assert course.seats_left == 20
    assert Enrollment.objects.filter(course=course).count() == 10
