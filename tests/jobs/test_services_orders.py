import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from jobs import services
from jobs.models import Order, OrderEvent, Post, WorkerStats
from jobs.rules import reliability
from notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(post, worker):
    return services.claim_create(post=post, worker=worker).order


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_full_happy_path_with_events(order, worker, boss):
    with at(order.starts_at - dt.timedelta(minutes=10)):
        services.order_check_in(order=order, worker=worker, lat=28.901, lng=120.031)
    with at(order.ends_at):
        services.order_check_out(order=order, worker=worker, quantity="1")
        services.order_confirm_completion(order=order, actor=boss, quantity="1.5")
    order.refresh_from_db()
    assert order.status == "completed" and order.approved_quantity == Decimal("1.5")
    assert order.amount_fen == 30000 and not order.auto_approved
    flow = list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status"))
    assert flow == [("", "confirmed"), ("confirmed", "checked_in"), ("checked_in", "checked_out"),
                    ("checked_out", "completed")]  # fmt: skip
    assert OrderEvent.objects.filter(order=order, to_status="checked_in").get().data["distance_m"] < 200
    assert WorkerStats.objects.get(user=worker).completed == 1
    assert Message.objects.filter(phone=worker.phone, template="order_completed").exists()
    assert Message.objects.filter(recipient=boss, template="order_checked_out").exists()


def test_check_in_window_place_and_owner(order, worker, worker2):
    with at(order.starts_at - dt.timedelta(hours=2)), pytest.raises(DomainError, match="才能签到"):
        services.order_check_in(order=order, worker=worker)
    with at(order.starts_at), pytest.raises(NotAllowed):
        services.order_check_in(order=order, worker=worker2)
    with at(order.starts_at), pytest.raises(DomainError) as info:
        services.order_check_in(order=order, worker=worker, lat=29.5, lng=120.03)
    assert info.value.code == "too_far"
    with at(order.starts_at), pytest.raises(DomainError):
        services.order_check_in(order=order, worker=worker, lat=28.9)
    with at(order.ends_at + dt.timedelta(minutes=1)), pytest.raises(DomainError):
        services.order_check_in(order=order, worker=worker)
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_out_of_order_transitions_refused(order, worker, boss):
    with pytest.raises(InvalidTransition):
        services.order_check_out(order=order, worker=worker)
    with pytest.raises(InvalidTransition):
        services.order_confirm_completion(order=order, actor=boss, quantity=1)
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker)
        with pytest.raises(InvalidTransition):
            services.order_check_in(order=order, worker=worker)
        with pytest.raises(InvalidTransition):
            services.order_cancel_by_worker(order=order, worker=worker)


def test_bad_quantity(order, worker, boss):
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker)
        for bad in ("-1", "0", "abc", "100000", "8"):  # an 8-hour 1-day post: at most 1 day
            with pytest.raises(DomainError):
                services.order_check_out(order=order, worker=worker, quantity=bad)
        services.order_check_out(order=order, worker=worker, quantity="1")
        with pytest.raises(NotAllowed):
            services.order_confirm_completion(order=order, actor=worker, quantity=8)


def test_auto_approve_after_silence(order, worker):
    with at(order.starts_at):
        services.order_check_in(order=order, worker=worker)
    with at(order.ends_at):
        services.order_check_out(order=order, worker=worker, quantity="1")
    with at(order.ends_at + dt.timedelta(hours=23)):
        assert services.orders_auto_approve() == 0
    with at(order.ends_at + dt.timedelta(hours=24, minutes=1)):
        assert services.orders_auto_approve() == 1
    order.refresh_from_db()
    assert order.status == "completed" and order.auto_approved and order.amount_fen == 20000
    assert order.events.last().actor is None


def test_worker_free_cancel_window(order, worker, post):
    with at(order.confirmed_at + dt.timedelta(minutes=10)):
        services.order_cancel_by_worker(order=order, worker=worker, reason="家里有事")
    order.refresh_from_db()
    assert order.status == "cancelled" and not order.late_cancel
    assert WorkerStats.objects.get(user=worker).late_cancels == 0
    post.refresh_from_db()
    assert post.slots_left == 2


def test_worker_late_cancel_lowers_reliability(employer, street, trade, worker):
    from tests.factories import PostFactory

    post = PostFactory(
        employer=employer, trade=trade, area=street, starts_at=timezone.now() + dt.timedelta(hours=5)
    )
    order = services.claim_create(post=post, worker=worker).order
    with at(timezone.now() + dt.timedelta(hours=1)):
        services.order_cancel_by_worker(order=order, worker=worker)
    order.refresh_from_db()
    assert order.late_cancel
    stats = WorkerStats.objects.get(user=worker)
    assert (
        stats.late_cancels == 1
        and stats.reliability == reliability(completed=0, no_shows=0, late_cancels=1) == 50
    )


def test_employer_late_cancel_pays_compensation(order, boss, worker):
    with pytest.raises(DomainError):
        services.order_cancel_by_employer(order=order, actor=boss, reason="")
    with at(order.starts_at - dt.timedelta(hours=3)):
        services.order_cancel_by_employer(order=order, actor=boss, reason="下雨停工")
    order.refresh_from_db()
    assert (
        order.status == "cancelled" and order.late_cancel and order.compensation_fen == 4000
    )  # 20% of 200 yuan
    assert (
        "补偿40.00元"
        in Message.objects.filter(phone=worker.phone, template="order_cancelled", channel="sms").get().body
    )


def test_employer_early_cancel_no_compensation_and_minimum(order, boss, employer, street, trade, worker2):
    services.order_cancel_by_employer(order=order, actor=boss, reason="工期推迟")
    order.refresh_from_db()
    assert order.compensation_fen == 0
    from tests.factories import PostFactory

    cheap = PostFactory(employer=employer, trade=trade, area=street, pay_fen=5000, pay_unit="hour")
    o2 = services.claim_create(post=cheap, worker=worker2).order
    with at(o2.starts_at - dt.timedelta(hours=1)):
        services.order_cancel_by_employer(order=o2, actor=boss, reason="不需要了")
    o2.refresh_from_db()
    assert o2.compensation_fen == 2000  # the 20-yuan floor


def test_no_show_after_grace(order, worker):
    with at(order.starts_at + dt.timedelta(minutes=29)):
        assert services.orders_mark_no_show() == 0
    with at(order.starts_at + dt.timedelta(minutes=31)):
        assert services.orders_mark_no_show() == 1
    order.refresh_from_db()
    assert order.status == "no_show"
    stats = WorkerStats.objects.get(user=worker)
    assert stats.no_shows == 1 and stats.reliability == 25
    assert Message.objects.filter(phone=worker.phone, template="order_no_show").exists()


def test_ratings_both_ways_once_after_completion(order, worker, boss, alice):
    with pytest.raises(InvalidTransition):
        services.rating_create(order=order, rater=worker, stars=5)
    Order.objects.filter(pk=order.pk).update(status="completed")
    services.rating_create(order=order, rater=worker, stars=5, comment="老板爽快")
    services.rating_create(order=order, rater=boss, stars=4)
    with pytest.raises(Conflict):
        services.rating_create(order=order, rater=worker, stars=3)
    with pytest.raises(NotAllowed):
        services.rating_create(order=order, rater=alice, stars=1)
    with pytest.raises(DomainError):
        services.rating_create(order=order, rater=boss, stars=6)
    stats = WorkerStats.objects.get(user=worker)
    assert stats.rating_count == 1 and stats.stars == 4.0


def test_contract_signed_by_both_with_sms_codes(order, worker, boss, alice, outbox):
    contract = order.contract
    assert "第七条 争议解决" in contract.body and "马架龙建筑劳务公司" in contract.body
    assert worker.realname.id_number not in contract.body  # masked in the text
    with pytest.raises(NotAllowed):
        services.contract_code_send(order=order, user=alice)
    services.contract_code_send(order=order, user=worker)
    services.contract_sign(order=order, user=worker, code=outbox.code(worker.phone))
    with pytest.raises(InvalidTransition):
        services.contract_sign(order=order, user=worker, code="000000")
    services.contract_code_send(order=order, user=boss)
    with pytest.raises(DomainError):
        services.contract_sign(order=order, user=boss, code="000000")
    contract = services.contract_sign(order=order, user=boss, code=outbox.code(boss.phone))
    assert contract.is_signed and contract.employer_signed_by == boss


def test_tampered_contract_refused(order, worker, outbox):
    from jobs.models import Contract

    Contract.objects.filter(order=order).update(body=order.contract.body + "\n附加条款：工资减半")
    services.contract_code_send(order=order, user=worker)
    with pytest.raises(Conflict):
        services.contract_sign(order=order, user=worker, code=outbox.code(worker.phone))


def test_disputed_from_disputes_area(order, worker):
    services.order_mark_disputed(order=order, actor=worker, reason="欠薪")
    order.refresh_from_db()
    assert order.status == "disputed"
    Post.objects.filter(pk=order.post_id)  # post untouched
