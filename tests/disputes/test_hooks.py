"""The functions the disputes area added to jobs and wallet ("disputes hooks"), and the smaller workspace
services."""

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import DomainError, InvalidTransition, NotAllowed
from disputes import services
from jobs import money
from jobs import services as job_services
from jobs.models import Order, Post
from notifications.models import Message
from tests.disputes.conftest import PAY, at
from wallet import ledger

pytestmark = pytest.mark.django_db


def test_order_dispute_end_returns_to_the_origin_or_completes(confirmed_order, worker):
    order = confirmed_order
    with pytest.raises(InvalidTransition):
        job_services.order_dispute_end(order=order, actor=None, case_id=1, outcome="failed")
    job_services.order_mark_disputed(order=order, actor=worker, case_id=1)
    with pytest.raises(NotAllowed) as info:  # still disputed: the wallet refuses to settle
        money.order_settle_by_agreement(order=order, to_worker_fen=100, key="k")
    assert info.value.code == "escrow_held"
    job_services.order_dispute_end(order=order, actor=None, case_id=1, outcome="declined")
    order.refresh_from_db()
    assert order.status == "confirmed"
    job_services.order_mark_disputed(order=order, actor=worker, case_id=2)
    with pytest.raises(DomainError):
        job_services.order_dispute_end(order=order, actor=None, case_id=2, outcome="agreed", amount_fen=-5)
    job_services.order_dispute_end(order=order, actor=None, case_id=2, outcome="agreed", amount_fen=5000)
    order.refresh_from_db()
    assert order.status == "completed" and order.amount_fen == 5000 and order.completed_at


def test_settle_refuses_bad_amounts(order):
    for bad in (-1, None, 1.5, True):
        with pytest.raises(DomainError):
            money.order_settle_by_agreement(order=order, to_worker_fen=bad, key="k")


def test_restoring_a_post_whose_start_passed_expires_it(post, worker2):
    case = services.case_report_post(actor=worker2, post=post, description="要先交押金才给活干")
    hold = money.post_hold(post)
    with at(post.starts_at + dt.timedelta(hours=1)):
        job_services.post_restore(post=post, actor=None, status=case.post_hidden_from)
    post.refresh_from_db()
    hold.refresh_from_db()
    assert post.status == Post.Status.EXPIRED and hold.balance_fen == 0
    with pytest.raises(InvalidTransition):
        job_services.post_hide_for_review(post=post, actor=None)


def test_messages_minutes_and_staff_ending_a_case(order, worker, boss, case_staff, mediator):
    case = services.case_file(actor=worker, order=order, category="wage_arrears", description="干完活老板不给钱",
                              amount_claimed_fen=PAY)  # fmt: skip
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    session = services.session_schedule(case=case, actor=mediator, starts_at=timezone.now() + dt.timedelta(hours=3),
                                        room="调解室")  # fmt: skip
    with pytest.raises(DomainError):
        services.session_schedule(
            case=case, actor=mediator, starts_at=timezone.now() - dt.timedelta(days=3), room="x"
        )
    services.session_record(
        session=session, actor=mediator, attendees="赵某、陈某", notes="双方同意按一天结算"
    )
    session.refresh_from_db()
    assert session.notes == "双方同意按一天结算"
    event = services.case_message(case=case, actor=mediator, text="周三上午来调解室", to="both")
    sms = Message.objects.filter(event_key=f"case:{case.pk}:message:{event.pk}", channel="sms")
    assert set(sms.values_list("phone", flat=True)) == {worker.phone, boss.phone}
    with pytest.raises(DomainError):
        services.case_message(case=case, actor=mediator, text="x", to="everyone")
    # Staff may hand it over to the social-governance centre: the order leaves DISPUTED.
    services.case_transfer(case=case, actor=case_staff, to="governance", organisation="青溪区社会治理中心",
                           note="涉及多名工人，需联合处置")  # fmt: skip
    order.refresh_from_db()
    assert order.status == Order.Status.CHECKED_OUT
    escrow = ledger.order_escrow(order)
    escrow.refresh_from_db()
    assert escrow.balance_fen == PAY
