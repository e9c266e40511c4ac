"""Messages about orders: the reminder before start (once per order, from the beat task) and the
settlement message when the wallet has paid the worker in full."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from jobs import services as jobs_services
from jobs.reminders import order_reminders_queue
from notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(post, worker):
    return jobs_services.claim_create(post=post, worker=worker).order


def test_reminder_goes_once_within_the_lead_time(order, worker, settings):
    settings.NOTIFY_REMINDER_LEAD = dt.timedelta(hours=2)
    with time_machine.travel(order.starts_at - dt.timedelta(hours=3), tick=False):
        assert order_reminders_queue() == 0
    with time_machine.travel(order.starts_at - dt.timedelta(hours=1, minutes=50), tick=False):
        assert order_reminders_queue() == 1
        assert order_reminders_queue() == 0  # the beat runs again: nothing new
    with time_machine.travel(order.starts_at - dt.timedelta(minutes=10), tick=False):
        assert order_reminders_queue() == 0
    sms = Message.objects.get(template="order_reminder", channel="sms")
    inapp = Message.objects.get(template="order_reminder", channel="inapp")
    assert sms.phone == worker.phone and inapp.recipient == worker
    assert order.post.title in sms.body and "开工" in sms.body


def test_no_reminder_for_cancelled_orders(order, worker):
    jobs_services.order_cancel_by_worker(order=order, worker=worker, reason="家里有事")
    with time_machine.travel(order.starts_at - dt.timedelta(hours=1), tick=False):
        assert order_reminders_queue() == 0
    assert not Message.objects.filter(template="order_reminder").exists()


def test_no_reminder_once_checked_in(order, worker):
    with time_machine.travel(order.starts_at - dt.timedelta(minutes=30), tick=False):
        jobs_services.order_check_in(order=order, worker=worker, lat=28.901, lng=120.031)
        assert order_reminders_queue() == 0


def test_settlement_message_when_the_wallet_pays(order, worker, boss):
    with time_machine.travel(order.starts_at - dt.timedelta(minutes=10), tick=False):
        jobs_services.order_check_in(order=order, worker=worker, lat=28.901, lng=120.031)
    with time_machine.travel(order.ends_at, tick=False):
        jobs_services.order_check_out(order=order, worker=worker, quantity="1")
        jobs_services.order_confirm_completion(order=order, actor=boss, quantity="1")
    order.refresh_from_db()
    assert order.settled_at is not None  # completion releases the escrow (jobs.money.order_release)
    sms = Message.objects.get(template="order_settled", channel="sms")
    assert sms.phone == worker.phone
    assert f"{order.paid_fen // 100}.{order.paid_fen % 100:02d}元" in sms.body
    assert Message.objects.filter(template="order_settled", channel="inapp", recipient=worker).count() == 1
