"""A cancellation whose after-commit task was lost (the broker was down) is told to the insurer by the
sweep that beat and the worker's own timer run (docs/bad-days.md), once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from insurance import services as insurance_services
from insurance.models import Policy
from jobs import services as jobs_services

from .helpers import issue


def test_a_lost_cancel_is_sent_by_the_sweep(insurer, order, worker):
    number = issue(order).policy_number
    jobs_services.order_cancel_by_worker(order=order, worker=worker)  # its on_commit task never runs here
    policy = Policy.objects.get(order=order)
    assert policy.status == "cancelled" and policy.insurer_cancelled_at is None and insurer.cancelled == []

    assert insurance_services.policies_retry_insurer_cancel() == 0  # too fresh: its own task may still come
    later = timezone.now() + dt.timedelta(minutes=6)
    assert insurance_services.policies_retry_insurer_cancel(now=later) == 1
    policy.refresh_from_db()
    assert policy.insurer_cancelled_at is not None
    assert insurer.cancelled == [(number, f"{policy.request_no}-cancel")]
    assert insurance_services.policies_retry_insurer_cancel(now=later) == 0
