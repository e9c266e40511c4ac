"""Races that only a real database shows: parallel code requests and parallel real-name submissions."""

import threading

import pytest
from django.db import close_old_connections

from accounts import services
from accounts.models import PhoneCode, PhoneCodeThrottle, RealName
from core.errors import DomainError
from tests.factories import SeekerFactory, id_number

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n, target):
    barrier = threading.Barrier(n)
    outcomes = []

    def run(i):
        try:
            barrier.wait()
            target(i)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_parallel_code_requests_cannot_beat_the_per_minute_limit():
    PhoneCodeThrottle.objects.create(phone="13912340000")  # a number that has asked for codes before
    outcomes = _race(12, lambda i: services.phone_code_send(phone="13912340000", purpose="register"))
    assert outcomes.count("ok") == 1
    assert outcomes.count("rate_limited") == 11
    assert PhoneCode.objects.filter(phone="13912340000").count() == 1


def test_parallel_submissions_of_one_id_bind_one_account():
    users = [SeekerFactory() for _ in range(8)]
    number = id_number(77)
    outcomes = _race(8, lambda i: services.realname_submit(user=users[i], name="陈世林", id_number=number))
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "conflict"}
    assert RealName.objects.count() == 1
